"""The ``gems`` section locked against a replica of real ``.gem`` files: lock entries, a tampered
download refused, a gem whose metadata disagrees with the index reported by the contents check."""

import hashlib
from pathlib import Path

import pytest

from bundler.core.errors import IntegrityError
from bundler.core.gem.metadata import check_artifact
from bundler.core.lock import Artifact
from bundler.lockcontext import LockContext
from bundler.net.download import FetchOptions, fetch_one
from bundler.net.http import Http
from bundler.resolve import resolve_spec
from bundler.spec import load_spec
from tests.bundler.conftest import needs_gem

pytestmark = needs_gem


def _spec(tmp_path, source, requirements='top: ">= 0"'):
    (tmp_path / "bundle.yml").write_text(
        "name: t\ntarget: {os: debian, release: '12', codename: bookworm}\n"
        f"gems:\n  source: {source}\n  ruby: 2.1.6\n  rubygems: 2.2.3\n  requirements:\n    {requirements}\n"
    )
    return load_spec(tmp_path / "bundle.yml")


def _download(gem_server, artifact, dest: Path) -> Path:
    data = Http(retries=0).get_bytes(artifact.url, sha256=artifact.sha256)
    path = dest / artifact.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_lock_entries_carry_checksum_size_edges_and_ruby_requirement(gem_server, gem_repo, tmp_path):
    spec = _spec(tmp_path, gem_server.base_url, 'natv: ">= 0"\n    top: "~> 1.0"\n    oldruby: ">= 0"')
    lock = resolve_spec(spec, LockContext(Http(), tmp_path / "cache"))
    by_name = {a.name: a for a in lock.by_kind("gem")}
    assert sorted(by_name) == ["base", "left", "natv", "oldruby", "right", "top"]
    left = by_name["left"]
    gem_file = gem_repo / "gems" / "left-1.0.0.gem"
    assert (left.path, left.trust, left.url) == (
        "gems/left-1.0.0.gem",
        "compact-index",
        gem_server.url("/gems/left-1.0.0.gem"),
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
        assert check_artifact(_download(gem_server, a, tmp_path / "dl"), a) == []


def test_every_unknown_or_unavailable_gem_of_a_spec_is_reported_at_once_with_its_line(gem_server, tmp_path):
    from bundler.core.errors import ResolutionError

    requirements = 'topp: ">= 0"\n    natv: "~> 2.0"\n    top: "~> 1.0"\n    nosuchthing: ">= 1"'
    spec = _spec(tmp_path, gem_server.base_url, requirements)
    with pytest.raises(ResolutionError) as exc:
        resolve_spec(spec, LockContext(Http(), tmp_path / "cache"))
    lines = str(exc.value).splitlines()
    spec_file = tmp_path / "bundle.yml"
    assert lines[0] == "3 requested gems cannot be installed:"  # one run, as apt does, not three
    assert lines[1].startswith(f"  {spec_file}:9: gems.requirements.natv: cannot resolve the gems: no release of natv")
    assert lines[2].startswith(f"  {spec_file}:11: gems.requirements.nosuchthing: gem 'nosuchthing' does not exist")
    assert lines[2].endswith("; check the name and the source")
    assert lines[3] == (
        f"  {spec_file}:8: gems.requirements.topp: gem 'topp' does not exist on {gem_server.base_url} "
        "(requested as 'topp >= 0'); did you mean top?"
    )


def test_a_tampered_gem_fails_its_sha256(gem_server, tmp_path):
    lock = resolve_spec(_spec(tmp_path, gem_server.base_url), LockContext(Http(), tmp_path / "cache"))
    top = lock.find("gem", "top")
    gem_server.faults["/gems/top-1.0.0.gem"] = {"corrupt": True}
    with pytest.raises(IntegrityError) as exc:
        fetch_one(Http(retries=0), top, tmp_path / "dl", options=FetchOptions(attempts=1, backoff=0))
    assert "top-1.0.0.gem" in str(exc.value) and top.sha256 in str(exc.value)
    assert (
        not list((tmp_path / "dl").rglob("*.gem"))
        and not (tmp_path / "dl" / "sha256" / top.sha256[:2] / top.sha256).exists()
    )


def test_a_gem_whose_metadata_disagrees_with_the_index_is_reported(gem_server, gem_repo, tmp_path):
    # the index claims left needs base >= 1.0 and Ruby >= 1.8.7; the .gem itself says otherwise
    sha = hashlib.sha256((gem_repo / "gems" / "left-1.0.0.gem").read_bytes()).hexdigest()
    gem_server.routes["/info/left"] = f"---\n1.0.0 base:>= 1.0|checksum:{sha},ruby:>= 1.8.7\n".encode()
    lock = resolve_spec(_spec(tmp_path, gem_server.base_url), LockContext(Http(), tmp_path / "cache"))
    left = lock.find("gem", "left")
    path = _download(gem_server, left, tmp_path / "dl")
    assert [str(p) for p in check_artifact(path, left)] == [
        "gems/left-1.0.0.gem (metadata.gz): requires base < 3, >= 1.0, the lock says base >= 1.0",
        "gems/left-1.0.0.gem (metadata.gz): required_ruby_version is >= 0, the lock says >= 1.8.7",
    ]
    renamed = Artifact(**{**left.to_json(), "name": "lefty", "version": "1.0.1"})
    assert [str(p) for p in check_artifact(path, renamed)][:2] == [
        "gems/left-1.0.0.gem (metadata.gz): name is 'left', the lock says 'lefty'",
        "gems/left-1.0.0.gem (metadata.gz): version is 1.0.0, the lock says 1.0.1",
    ]


def test_bundle_build_refuses_a_gem_whose_metadata_disagrees_with_the_lock(gem_server, gem_repo, tmp_path, capsys):
    from bundler.cli import main

    sha = hashlib.sha256((gem_repo / "gems" / "left-1.0.0.gem").read_bytes()).hexdigest()
    gem_server.routes["/info/left"] = f"---\n1.0.0 base:< 3&>= 1.0|checksum:{sha},ruby:>= 1.8.7\n".encode()
    spec = _spec(tmp_path, gem_server.base_url)
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
