"""Hostile remote answers (issue 13): compact indexes, bosh.io answers, HTTP servers and APT
repositories, each refused in one line with the exit code of its error, nothing kept in the cache
or written into a lock from a refused answer.
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from bundler import cli
from bundler.boshio.resolve import resolve_releases
from bundler.core.errors import BundleError, FetchError, IntegrityError, ResolutionError
from bundler.gems.compactindex import CompactIndex, parse_info_line, parse_versions
from bundler.lockcontext import LockContext
from bundler.net.http import Http
from bundler.spec import load_spec
from tests.support import boshioreplica as bio
from tests.support.httpserver import LoopbackServer
from tests.support.synthetic import artifact, make_files, write_test_lock

SHA = "a" * 64


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and text, text
    return text


def files_under(d) -> list[str]:
    return sorted(p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file()) if d.exists() else []


# --- compact index ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, expect",
    [
        (f"1.0-x86/../../etc |checksum:{SHA}", "platform 'x86/../../etc' is not a plain name"),
        (f"1.0-.. |checksum:{SHA}", "platform '..' is not a plain name"),
        (f"1.0 ..:>= 0|checksum:{SHA}", "dependency '..:>= 0' is not NAME:REQUIREMENT"),
        (f"1.0 a/b:>= 0|checksum:{SHA}", "dependency 'a/b:>= 0' is not NAME:REQUIREMENT"),
        ("1.0 |checksum:../../x", "no sha256 checksum"),
    ],
    ids=["platform-slash", "platform-dotdot", "dep-dotdot", "dep-slash", "checksum"],
)
def test_hostile_info_lines_are_refused(line, expect):
    with pytest.raises(ResolutionError) as err:
        parse_info_line("rake", line, "info/rake line 3")
    assert expect in one_line(err.value) and err.value.exit_code == 1


@pytest.mark.parametrize("name", ["..", ".", "a/b"])
def test_hostile_names_in_versions_are_refused(name):
    with pytest.raises(ResolutionError, match="is not a plain name"):
        parse_versions(f"created_at: x\n---\nrake 1.0 abc\n{name} 1.0 def\n", "versions")


def test_gem_name_with_dots_never_reaches_a_url_or_the_cache(tmp_path):
    with LoopbackServer(routes={"/versions": b"---\n"}) as srv:
        index = CompactIndex(Http(retries=0), srv.base_url, tmp_path / "cache")
        with pytest.raises(ResolutionError, match="is not a plain name"):
            index.info("..")
        assert srv.requests == {} and files_under(tmp_path / "cache") == []


def test_endless_info_answer_ends_in_one_line(tmp_path):
    body = b"---\n" + b"1.0 |checksum:" + b"a" * (17 << 20)
    versions = b"---\nrake 1.0 " + hashlib.md5(body).hexdigest().encode() + b"\n"
    with LoopbackServer(routes={"/versions": versions, "/info/rake": body}) as srv:
        index = CompactIndex(Http(retries=0), srv.base_url, tmp_path / "cache")
        with pytest.raises(IntegrityError) as err:
            index.info("rake")
    assert "more than 16777216 allowed" in one_line(err.value)
    assert not [p for p in files_under(tmp_path / "cache") if "info/" in p]


# --- bosh.io answers ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return bio.reference_set(
        tmp_path_factory.mktemp("boshio"), bosh_versions=("233",), cpi_versions=("36",), stemcell_versions=("3147",)
    )


def _rewrite(replica, repo: str, **change) -> None:
    route = f"/api/v1/releases/{repo}"
    entries = json.loads(replica.server.routes[route])
    for e in entries:
        e.update(change)
    replica.server.routes[route] = json.dumps(entries).encode()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/bosh.tgz", "/etc/passwd", "http:///x"])
def test_bosh_io_url_that_is_not_http_is_refused_even_from_a_warm_cache(tmp_path, reference, url):
    with bio.serve_boshio(reference) as replica:
        spec = load_spec(bio.write_demo_spec(tmp_path / "bundle.yml", replica, reference))
        ctx = LockContext(http=Http(mirrors=spec.mirrors, retries=0), cache=tmp_path / "cache")
        resolve_releases(spec, ctx)  # warms the lock cache: the tarball's facts are remembered by sha1
        cached = files_under(tmp_path / "cache")
        _rewrite(replica, "github.com/cloudfoundry/bosh", url=url)
        with pytest.raises(ResolutionError) as err:
            resolve_releases(spec, ctx)
    assert f"url {url!r} is not an http(s) URL; refusing it" in one_line(err.value)
    assert files_under(tmp_path / "cache") == cached


def test_bosh_io_answer_that_is_not_json(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        spec = load_spec(bio.write_demo_spec(tmp_path / "bundle.yml", replica, reference))
        replica.server.routes["/api/v1/releases/github.com/cloudfoundry/bosh"] = b"<html>maintenance</html>"
        with pytest.raises(ResolutionError) as err:
            resolve_releases(spec, LockContext(http=Http(mirrors=spec.mirrors, retries=0), cache=tmp_path / "c"))
    assert "did not answer JSON" in one_line(err.value)


def test_bosh_io_answer_of_the_wrong_shape(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        spec = load_spec(bio.write_demo_spec(tmp_path / "bundle.yml", replica, reference))
        replica.server.routes["/api/v1/releases/github.com/cloudfoundry/bosh"] = b'{"evil": true}'
        with pytest.raises(ResolutionError) as err:
            resolve_releases(spec, LockContext(http=Http(mirrors=spec.mirrors, retries=0), cache=tmp_path / "c"))
    assert "answered something other than a list of versions" in one_line(err.value)


def test_endless_bosh_io_answer_is_capped(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        spec = load_spec(bio.write_demo_spec(tmp_path / "bundle.yml", replica, reference))
        replica.server.routes["/api/v1/releases/github.com/cloudfoundry/bosh"] = b"[" + b" " * (33 << 20)
        with pytest.raises(IntegrityError) as err:
            resolve_releases(spec, LockContext(http=Http(mirrors=spec.mirrors, retries=0), cache=tmp_path / "c"))
    assert "more than 33554432" in one_line(err.value)


# --- HTTP servers -------------------------------------------------------------------------------


def _redirect(to: str):
    return lambda handler: (302, {"Location": to}, b"")


def test_redirect_to_a_local_file_is_refused():
    with LoopbackServer(routes={"/x": _redirect("file:///etc/passwd")}) as srv, pytest.raises(FetchError) as err:
        Http(retries=0).get_bytes(srv.url("/x"))
    assert "InvalidSchema" in one_line(err.value) or "No connection adapters" in str(err.value)


def test_announced_endless_body_is_refused_before_reading():
    with LoopbackServer(routes={"/x": b"x" * (2 << 20)}) as srv, pytest.raises(IntegrityError) as err:
        Http(retries=0).get_bytes(srv.url("/x"), limit=1 << 20)
    assert "2097152 bytes announced, more than 1048576 allowed" in one_line(err.value)


def _build(tmp_path, url: str, data: bytes, **faults):
    lock = tmp_path / "bundle.lock"
    write_test_lock(lock, [artifact("tool", data, url)])
    return cli.main(
        ["build", "--lock", str(lock), "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"), "--quiet"]
    )


@pytest.mark.parametrize(
    "serve, expect",
    [
        (lambda d: d + b"x" * 100_000, "gave 50001 bytes"),  # longer than locked: read stops one byte past
        (lambda d: bytes([d[0] ^ 1]) + d[1:], "sha256"),  # the same size, other bytes
    ],
    ids=["longer", "other-bytes"],
)
def test_download_is_held_to_the_locked_size_and_sha256(tmp_path, capsys, serve, expect):
    data = make_files(tmp_path / "src", {"tool": 50_000})["tool"]
    with LoopbackServer(routes={"/tool": serve(data)}) as srv:
        assert _build(tmp_path, srv.url("/tool"), data) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("bosh-bundle:")]
    assert len(err) == 1 and expect in err[0] and "The download was discarded" in err[0]
    assert not (tmp_path / "out").exists()
    assert not [f for f in files_under(tmp_path / "cache") if not f.endswith(".part")]  # nothing kept as good
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".building")]


def test_server_error_forever_ends_in_one_line(tmp_path, capsys):
    data = b"x" * 1000
    with LoopbackServer(routes={"/tool": data}) as srv:
        srv.faults["/tool"] = {"status": 503}
        lock = tmp_path / "bundle.lock"
        write_test_lock(lock, [artifact("tool", data, srv.url("/tool"))])
        code = cli.main(["build", "--lock", str(lock), "--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c"),
                         "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "503" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


# --- APT repositories (the apt code is W2-D's: the behaviour that holds today) -----------------


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    from tests.support.aptrepo import build_repo

    pkgs = [{"Package": "hello", "Version": "2.10-3"}]
    return build_repo(tmp_path_factory.mktemp("repo"), pkgs, gnupghome=tmp_path_factory.mktemp("g"))


def _release(repo, srv, tmp_path, keyring=None):
    from bundler.apt.client import AptClient
    from bundler.spec import AptSource

    client = AptClient(Http(retries=0), tmp_path / "cache")
    return client, client.release(
        AptSource(srv.base_url, ("stable",), ("main",), str(keyring or repo.keyring)), "stable"
    )


def test_apt_release_edited_after_signing_is_refused(repo, tmp_path):
    text = (repo.root / "dists/stable/InRelease").read_text().replace("Suite: stable", "Suite: evil")
    routes = {"/dists/stable/InRelease": text.encode()}
    with LoopbackServer(root=repo.root, routes=routes) as srv, pytest.raises(IntegrityError) as err:
        _release(repo, srv, tmp_path)
    assert "BAD signature" in str(err.value)


def test_apt_release_by_another_key_is_refused(repo, tmp_path):
    from tests.support.aptrepo import make_key

    other = make_key(tmp_path / "other")
    with LoopbackServer(root=repo.root) as srv, pytest.raises(IntegrityError, match="no public key"):
        _release(repo, srv, tmp_path, other)


def test_apt_packages_index_swapped_after_signing_is_refused(repo, tmp_path):
    import lzma

    evil = lzma.compress(b"Package: hello\nVersion: 9.9\nFilename: ../../../etc/passwd\nSize: 1\nSHA256: " + b"0" * 64)
    with LoopbackServer(root=repo.root, routes={"/dists/stable/main/binary-amd64/Packages.xz": evil}) as srv:
        client, rel = _release(repo, srv, tmp_path)
        with pytest.raises(BundleError) as err:
            client.packages(rel, "main", "amd64")
    assert err.value.exit_code == 1 and "Packages" in str(err.value)


def test_apt_endless_inrelease_ends_in_one_line(repo, tmp_path):
    routes = {"/dists/stable/InRelease": b"A" * (65 << 20)}
    with LoopbackServer(root=repo.root, routes=routes) as srv, pytest.raises(BundleError) as err:
        _release(repo, srv, tmp_path)
    assert err.value.exit_code in (1, 2) and "\n" not in str(err.value).strip()
    assert os.path.isdir(tmp_path)
