"""The gem resolver against a real compact-index replica of real ``.gem`` files (built by ``gem build``).

Target as in the guide: Ruby 2.1.6 with RubyGems 2.2.3, platforms ruby and x86_64-linux.
"""

import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from bundler.core.errors import IntegrityError, ResolutionError
from bundler.core.gem.version import Version
from bundler.core.lock import Artifact
from bundler.gems.resolve import CompactIndex, Target, check_artifact, read_gem_metadata, resolve_gems
from bundler.lockcontext import LockContext
from bundler.net.download import FetchOptions, fetch_one
from bundler.net.http import Http
from bundler.resolve import resolve_spec
from bundler.spec import load_spec
from tests.support.gemrepo import RESOLUTION_GRAPH, cached_repo, serve_gem_replica

pytestmark = pytest.mark.skipif(shutil.which("gem") is None, reason="needs gem and ruby (Debian package 'ruby')")

GUIDE = Target(Version("2.1.6"), Version("2.2.3"), ("ruby", "x86_64-linux"))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return cached_repo(RESOLUTION_GRAPH, tmp_path_factory.getbasetemp())


@pytest.fixture
def server(repo):
    with serve_gem_replica(repo) as srv:
        yield srv


def _resolve(server, *requests, target=GUIDE, cache=None):
    index = CompactIndex(Http(retries=0), server.base_url, cache)
    resolved = resolve_gems(index, [(r.partition(":")[0], r.partition(":")[2]) for r in requests], target)
    return {e.name: e.full_name for e in resolved.gems}, resolved


def test_newest_releases_that_need_a_newer_ruby_or_rubygems_are_passed_over(server):
    chosen, _ = _resolve(server, "oldruby", "oldgems")
    # oldruby 3.0.0 needs ruby >= 2.7, 2.0.0 needs >= 2.2; 1.5.0 (>= 2.0, < 2.7.dev) fits 2.1.6
    # oldgems 2.0.0 needs rubygems >= 2.5.0; the target has 2.2.3
    assert chosen == {"oldruby": "oldruby-1.5.0", "oldgems": "oldgems-1.0.0"}
    newer = Target(Version("3.1.2"), Version("3.3.15"))
    assert _resolve(server, "oldruby", "oldgems", target=newer)[0] == {
        "oldruby": "oldruby-3.0.0",
        "oldgems": "oldgems-2.0.0",
    }


def test_a_diamond_takes_the_newest_base_both_sides_accept(server):
    chosen, resolved = _resolve(server, "top")
    assert chosen == {"top": "top-1.0.0", "left": "left-1.0.0", "right": "right-1.0.0", "base": "base-1.5.0"}
    order = resolved.install_order
    assert order.index("base") < order.index("left") < order.index("top")
    assert "rspec-replica" not in chosen  # a development dependency is not in the index


def test_a_conflict_is_resolved_by_backtracking_to_an_older_release(server):
    chosen, _ = _resolve(server, "bt")
    # y 2.0.0 pins w 2.0.0, but every z needs w ~> 1.0: y goes back to 1.0.0
    assert chosen == {"bt": "bt-1.0.0", "y": "y-1.0.0", "z": "z-2.0.0", "w": "w-1.0.0"}


def test_prereleases_only_when_a_requirement_names_one(server):
    assert _resolve(server, "pre")[0] == {"pre": "pre-1.0.0"}
    assert _resolve(server, "pre:>= 2.0.a")[0] == {"pre": "pre-2.0.0.rc1"}


def test_a_build_for_an_accepted_platform_is_preferred_and_others_never_taken(server):
    assert _resolve(server, "natv")[0] == {"natv": "natv-1.0.0-x86_64-linux"}
    ruby_only = Target(GUIDE.ruby, GUIDE.rubygems, ("ruby",))
    assert _resolve(server, "natv", target=ruby_only)[0] == {"natv": "natv-1.0.0"}


def test_unsatisfiable_names_both_requirements_and_who_asked(server):
    with pytest.raises(ResolutionError) as exc:
        _resolve(server, "broken")
    msg = str(exc.value)
    assert "p ~> 1.0 (required by broken-1.0.0)" in msg
    assert "p >= 2.0 (required by q-1.0.0)" in msg


def test_a_gem_no_release_of_which_runs_on_the_target_ruby_says_so(server):
    with pytest.raises(ResolutionError, match=r"target's Ruby is 2\.1\.6, but: ruby >= 3\.3 \(required by newonly"):
        _resolve(server, "newonly")


def test_unknown_gems_are_named_with_who_asked(server):
    with pytest.raises(ResolutionError, match=r"gem 'nosuch' does not exist on http://127\.0\.0\.1:\d+ \(requested"):
        _resolve(server, "nosuch:~> 1.0")
    with pytest.raises(ResolutionError, match=r"gem 'nosuchgem' does not exist .*required by dangling-1\.0\.0"):
        _resolve(server, "dangling")


def test_a_malformed_info_line_names_the_gem_and_the_line(server):
    good = (server.root / "info" / "base").read_text()
    server.routes["/info/base"] = (good + "2.9.9 |checksum:nothex\n").encode()
    with pytest.raises(ResolutionError) as exc:
        _resolve(server, "top")
    msg = str(exc.value)
    assert "/info/base line 7" in msg and "gem 'base'" in msg and "2.9.9 |checksum:nothex" in msg
    server.routes["/info/base"] = (good + "2.9.9 left:>= one|checksum:" + "0" * 64 + "\n").encode()
    with pytest.raises(ResolutionError, match=r"gem 'base' .*malformed gem requirement '>= one'"):
        _resolve(server, "top")


def test_info_files_are_cached_and_only_versions_is_fetched_again(server, tmp_path):
    index = CompactIndex(Http(), server.base_url, tmp_path)
    resolve_gems(index, [("top", "")], GUIDE)
    assert sorted(u.rsplit("/", 1)[1] for u in index.fetched) == ["base", "left", "right", "top", "versions"]
    warm = CompactIndex(Http(), server.base_url, tmp_path)
    before = server.bytes_sent["/versions"]
    resolve_gems(warm, [("top", "")], GUIDE)
    size = (server.root / "versions").stat().st_size
    assert warm.fetched == [f"{server.base_url}/versions (from byte {size - 1})"]
    assert server.bytes_sent["/versions"] - before == 1  # only the last byte, to see nothing changed


def test_a_grown_versions_file_is_read_from_where_the_cache_ends(server, tmp_path):
    def resolve_top():
        index = CompactIndex(Http(), server.base_url, tmp_path)
        return {e.name: str(e.version) for e in resolve_gems(index, [("top", "")], GUIDE).gems}, index

    assert resolve_top()[0]["base"] == "1.5.0"
    old = (server.root / "versions").read_bytes()
    info = (server.root / "info" / "base").read_text() + "1.9.0 |checksum:" + "9" * 64 + "\n"
    appended = f"base 1.9.0 {hashlib.md5(info.encode()).hexdigest()}\n".encode()
    server.routes["/versions"] = old + appended
    server.routes["/info/base"] = info.encode()
    chosen, index = resolve_top()
    assert chosen["base"] == "1.9.0"
    assert server.ranges[-1] == ("/versions", f"bytes={len(old) - 1}-")
    assert f"{server.base_url}/versions" not in index.fetched  # no full download
    assert (tmp_path / index.cache_dir.name / "versions").read_bytes() == old + appended

    # a server that states the whole file's sha256: a joined file that does not match it is refetched
    def with_wrong_digest(handler):
        return 200, {"Repr-Digest": "sha-256=:" + base64.b64encode(b"x" * 32).decode() + ":"}, old + appended

    server.routes["/versions"] = with_wrong_digest
    assert resolve_top()[1].fetched[:2] == [
        f"{server.base_url}/versions (from byte {len(old + appended) - 1})",
        f"{server.base_url}/versions",
    ]


def _spec(tmp_path, source, requirements='top: ">= 0"'):
    (tmp_path / "bundle.yml").write_text(
        "name: t\ntarget: {os: debian, release: '12', codename: bookworm}\n"
        f"gems:\n  source: {source}\n  ruby: 2.1.6\n  rubygems: 2.2.3\n  requirements:\n    {requirements}\n"
    )
    return load_spec(tmp_path / "bundle.yml")


def _download(server, artifact, dest: Path) -> Path:
    data = Http(retries=0).get_bytes(artifact.url, sha256=artifact.sha256)
    path = dest / artifact.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_lock_entries_carry_checksum_size_edges_and_ruby_requirement(server, repo, tmp_path):
    spec = _spec(tmp_path, server.base_url, 'natv: ">= 0"\n    top: "~> 1.0"\n    oldruby: ">= 0"')
    lock = resolve_spec(spec, LockContext(Http(), tmp_path / "cache"))
    by_name = {a.name: a for a in lock.by_kind("gem")}
    assert sorted(by_name) == ["base", "left", "natv", "oldruby", "right", "top"]
    left = by_name["left"]
    gem_file = repo / "gems" / "left-1.0.0.gem"
    assert (left.path, left.trust, left.url) == (
        "gems/left-1.0.0.gem",
        "compact-index",
        server.url("/gems/left-1.0.0.gem"),
    )
    assert (left.size, left.sha256) == (gem_file.stat().st_size, hashlib.sha256(gem_file.read_bytes()).hexdigest())
    assert left.meta["dependencies"] == [["base", "< 3, >= 1.0"]]
    assert by_name["oldruby"].meta["required_ruby_version"] == ">= 2.0, < 2.7.dev"
    assert by_name["natv"].path == "gems/natv-1.0.0-x86_64-linux.gem"
    assert by_name["natv"].meta["platform"] == "x86_64-linux"
    assert lock.sections["gems"]["install_order"].index("gems/base-1.5.0.gem") < lock.sections["gems"][
        "install_order"
    ].index("gems/top-1.0.0.gem")
    # the same upstream state gives the same lock, byte for byte
    assert resolve_spec(spec, LockContext(Http(), tmp_path / "cache")).dumps() == lock.dumps()
    for a in lock.by_kind("gem"):
        assert check_artifact(_download(server, a, tmp_path / "dl"), a) == []


def test_a_tampered_gem_fails_its_sha256(server, tmp_path):
    lock = resolve_spec(_spec(tmp_path, server.base_url), LockContext(Http(), tmp_path / "cache"))
    top = lock.find("gem", "top")
    server.faults["/gems/top-1.0.0.gem"] = {"corrupt": True}
    with pytest.raises(IntegrityError) as exc:
        fetch_one(Http(retries=0), top, tmp_path / "dl", options=FetchOptions(attempts=1, backoff=0))
    assert "top-1.0.0.gem" in str(exc.value) and top.sha256 in str(exc.value)
    assert (
        not list((tmp_path / "dl").rglob("*.gem"))
        and not (tmp_path / "dl" / "sha256" / top.sha256[:2] / top.sha256).exists()
    )


def test_a_gem_whose_metadata_disagrees_with_the_index_is_reported(server, repo, tmp_path):
    # the index claims left needs base >= 1.0 and Ruby >= 1.8.7; the .gem itself says otherwise
    sha = hashlib.sha256((repo / "gems" / "left-1.0.0.gem").read_bytes()).hexdigest()
    server.routes["/info/left"] = f"---\n1.0.0 base:>= 1.0|checksum:{sha},ruby:>= 1.8.7\n".encode()
    lock = resolve_spec(_spec(tmp_path, server.base_url), LockContext(Http(), tmp_path / "cache"))
    left = lock.find("gem", "left")
    path = _download(server, left, tmp_path / "dl")
    assert check_artifact(path, left) == [
        "gems/left-1.0.0.gem (metadata.gz): requires base < 3, >= 1.0, the lock says base >= 1.0",
        "gems/left-1.0.0.gem (metadata.gz): required_ruby_version is >= 0, the lock says >= 1.8.7",
    ]
    renamed = Artifact(**{**left.to_json(), "name": "lefty", "version": "1.0.1"})
    assert check_artifact(path, renamed)[:2] == [
        "gems/left-1.0.0.gem (metadata.gz): name is 'left', the lock says 'lefty'",
        "gems/left-1.0.0.gem (metadata.gz): version is 1.0.0, the lock says 1.0.1",
    ]


def test_metadata_reader_sees_runtime_dependencies_only(repo):
    meta = read_gem_metadata(repo / "gems" / "top-1.0.0.gem")
    assert (meta.name, meta.version, meta.platform) == ("top", "1.0.0", "ruby")
    assert [n for n, _ in meta.dependencies] == ["left", "right"]  # not the development dependency


def test_check_artifact_reports_a_file_that_is_not_a_gem(tmp_path):
    bogus = tmp_path / "x.gem"
    bogus.write_bytes(b"not a tar")
    a = Artifact("gem", "x", "1.0", "http://127.0.0.1/x.gem", 9, "0" * 64, "compact-index", "gems/x-1.0.gem")
    [problem] = check_artifact(bogus, a)
    assert problem.startswith("gems/x-1.0.gem: ") and "metadata.gz" in problem


def _cli(server, tmp_path, *args):
    from bundler.cli import main

    return main(["gems", "resolve", *args, "--source", server.base_url, "--cache", str(tmp_path / "cache")])


def test_gems_resolve_command_prints_the_chosen_set(server, tmp_path, capsys):
    assert _cli(server, tmp_path, "top:~> 1.0", "natv", "--ruby", "2.1.6", "--rubygems", "2.2.3") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [
        ["base", "1.5.0"],
        ["left", "1.0.0"],
        ["natv", "1.0.0", "x86_64-linux"],
        ["right", "1.0.0"],
        ["top", "1.0.0"],
    ]
    assert _cli(server, tmp_path, "oldruby", "--ruby", "3.1.2", "--platform", "ruby", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert [(g["name"], g["version"], g["platform"]) for g in out["gems"]] == [("oldruby", "3.0.0", "ruby")]
    assert out["gems"][0]["required_ruby_version"] == ">= 2.7"


def test_gems_resolve_command_exit_codes(server, tmp_path, capsys):
    assert _cli(server, tmp_path, "broken", "--ruby", "2.1.6", "--rubygems", "2.2.3") == 1
    assert "p ~> 1.0 (required by broken-1.0.0)" in capsys.readouterr().err
    assert _cli(server, tmp_path, "top:=> 1", "--ruby", "2.1.6") == 2
    assert "gem request top:=> 1: malformed gem requirement" in capsys.readouterr().err
    assert _cli(server, tmp_path, "top", "--ruby", "two") == 2


def test_check_artifact_compares_only_what_the_lock_records(repo):
    top = repo / "gems" / "top-1.0.0.gem"
    bare = Artifact("gem", "top", "1.0.0", "http://127.0.0.1/t.gem", 1, "0" * 64, "compact-index", "gems/top-1.0.0.gem")
    assert check_artifact(top, bare) == []
    broken = Artifact(**{**bare.to_json(), "meta": {"dependencies": [["left", "=> 1"]]}})
    assert check_artifact(top, broken) == [
        "gems/top-1.0.0.gem: the lock's meta for this gem is malformed: malformed gem requirement '=> 1' (in '=> 1')"
    ]


def test_no_release_for_the_accepted_platforms_lists_what_the_source_has(server):
    java_only = Target(GUIDE.ruby, GUIDE.rubygems, ("java",))
    with pytest.raises(ResolutionError) as exc:
        _resolve(server, "top", target=java_only)
    assert str(exc.value) == (
        "cannot resolve the gems: no release of top fits top >= 0 (required by the request); "
        "the source has 1.0.0 (platforms accepted: java)"
    )
    with pytest.raises(
        ResolutionError, match=r"no release of natv fits natv ~> 2\.0 .*has 1\.0\.0, 1\.0\.0-x86_64-linux"
    ):
        _resolve(server, "natv:~> 2.0")


def test_bundle_build_refuses_a_gem_whose_metadata_disagrees_with_the_lock(server, repo, tmp_path, capsys):
    from bundler.cli import main

    sha = hashlib.sha256((repo / "gems" / "left-1.0.0.gem").read_bytes()).hexdigest()
    server.routes["/info/left"] = f"---\n1.0.0 base:< 3&>= 1.0|checksum:{sha},ruby:>= 1.8.7\n".encode()
    spec = _spec(tmp_path, server.base_url)
    cache = str(tmp_path / "cache")
    assert main(["lock", "--spec", str(spec.path), "--cache", cache]) == 0
    assert (
        main(["build", "--lock", str(tmp_path / "bundle.lock"), "--out", str(tmp_path / "out"), "--cache", cache]) == 1
    )
    assert (
        "gems/left-1.0.0.gem (metadata.gz): required_ruby_version is >= 0, the lock says >= 1.8.7"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()
