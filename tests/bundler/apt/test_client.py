"""The APT client trusts only what the keyring signed: InRelease -> Release -> Packages, cached by sha256."""

from __future__ import annotations

import lzma

import pytest

from bundler.apt.client import AptClient
from bundler.apt.release import TRUST_SIGNED, TRUST_SPEC
from bundler.core.errors import IntegrityError
from bundler.net.http import Http
from bundler.spec import AptSource
from tests.support.aptrepo import build_repo, make_key, sign_release, write_release
from tests.support.httpserver import LoopbackServer

PACKAGES = [
    {"Package": "hello", "Version": "2.10-3", "Depends": "libc6 (>= 2.34)"},
    {"Package": "libc6", "Version": "2.36-9", "Multi-Arch": "same", "Provides": "libc-dev-bin-virtual"},
    {"Package": "mawk", "Version": "1.3.4-1", "Provides": "awk", "Priority": "required"},
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("repo")
    return build_repo(root, PACKAGES, gnupghome=tmp_path_factory.mktemp("gnupg"))


def _client(tmp_path):
    return AptClient(Http(retries=0), tmp_path / "cache")


def test_signed_release_and_packages_are_read(repo, tmp_path):
    with LoopbackServer(root=repo.root) as srv:
        client = _client(tmp_path)
        rel = client.release(AptSource(srv.base_url, ("stable",), ("main",), str(repo.keyring)), "stable")
        assert rel.trust == TRUST_SIGNED and rel.signer
        idx = client.packages(rel, "main", "amd64")
        assert sorted(idx.names()) == ["hello", "libc6", "mawk"]
        assert idx.get("hello")[0]["Depends"] == "libc6 (>= 2.34)"
        assert idx.providers("awk") == ["mawk"]
        assert srv.requests["/dists/stable/main/binary-amd64/Packages.xz"] == 1
        assert rel.url_of(idx.get("hello")[0]["Filename"]).startswith(srv.base_url + "/pool/main/h/hello_2.10-3")


def test_parsed_index_is_cached_by_sha256(repo, tmp_path):
    with LoopbackServer(root=repo.root) as srv:
        source = AptSource(srv.base_url, ("stable",), ("main",), str(repo.keyring))
        for _ in range(2):
            client = _client(tmp_path)
            idx = client.packages(client.release(source, "stable"), "main", "amd64")
            assert idx.get("libc6")[0]["Version"] == "2.36-9"
        assert srv.requests["/dists/stable/main/binary-amd64/Packages.xz"] == 1
        assert srv.requests["/dists/stable/InRelease"] == 2


def test_detached_signature_is_used_without_inrelease(repo, tmp_path):
    with LoopbackServer(root=repo.root) as srv:
        srv.faults["/dists/stable/InRelease"] = {"status": 404}
        rel = _client(tmp_path).release(AptSource(srv.base_url, ("stable",), ("main",), str(repo.keyring)), "stable")
        assert rel.trust == TRUST_SIGNED and srv.requests["/dists/stable/Release.gpg"] == 1


def test_wrong_key_is_refused_unless_trusted(repo, tmp_path):
    other = make_key(tmp_path / "other-gnupg")
    with LoopbackServer(root=repo.root) as srv:
        with pytest.raises(IntegrityError, match="signature check failed: no public key"):
            _client(tmp_path).release(AptSource(srv.base_url, ("stable",), ("main",), str(other)), "stable")
        rel = _client(tmp_path).release(AptSource(srv.base_url, ("stable",), ("main",), str(other), True), "stable")
        assert rel.trust == TRUST_SPEC and rel.entry("main/binary-amd64/Packages.xz")


def test_tampered_inrelease_is_a_bad_signature(repo, tmp_path):
    text = (repo.root / "dists/stable/InRelease").read_text().replace("Suite: stable", "Suite: evil!")
    routes = {"/dists/stable/InRelease": text.encode()}
    with LoopbackServer(root=repo.root, routes=routes) as srv, pytest.raises(IntegrityError, match="BAD signature"):
        _client(tmp_path).release(AptSource(srv.base_url, ("stable",), ("main",), str(repo.keyring)), "stable")


def test_tampered_packages_fails_the_release_sha256(tmp_path):
    repo = build_repo(tmp_path / "r", PACKAGES, gnupghome=tmp_path / "g")
    bad = lzma.compress(b"Package: hello\nVersion: 9.9\nFilename: pool/evil.deb\n")
    with LoopbackServer(root=repo.root, routes={"/dists/stable/main/binary-amd64/Packages.xz": bad}) as srv:
        client = _client(tmp_path)
        rel = client.release(AptSource(srv.base_url, ("stable",), ("main",), str(repo.keyring)), "stable")
        with pytest.raises(IntegrityError, match="Packages.xz: sha256 is"):
            client.packages(rel, "main", "amd64")


def test_resigned_release_with_new_content_is_accepted(tmp_path):
    repo = build_repo(tmp_path / "r", PACKAGES[:1], gnupghome=tmp_path / "g")
    (repo.root / "dists/stable/main/binary-amd64/Packages.xz").unlink()
    (repo.root / "dists/stable/main/binary-amd64/Packages.gz").unlink()
    sign_release(write_release(repo.root, "stable", "amd64"), repo.gnupghome)
    with LoopbackServer(root=repo.root) as srv:
        client = _client(tmp_path)
        rel = client.release(AptSource(srv.base_url, ("stable",), ("main",), str(repo.keyring)), "stable")
        assert list(client.packages(rel, "main", "amd64").names()) == ["hello"]
        assert srv.requests["/dists/stable/main/binary-amd64/Packages"] == 1


def test_a_good_signature_is_remembered_only_for_the_same_bytes(repo, tmp_path):
    with LoopbackServer(root=repo.root) as srv:
        source = AptSource(srv.base_url, ("stable",), ("main",), str(repo.keyring))
        first = _client(tmp_path).release(source, "stable")
        memos = list((tmp_path / "cache/index/apt").glob("release-*.json"))
        assert len(memos) == 1
        assert _client(tmp_path).release(source, "stable").entries == first.entries
    text = (repo.root / "dists/stable/InRelease").read_text().replace("Suite: stable", "Suite: evil!")
    routes = {"/dists/stable/InRelease": text.encode()}
    with LoopbackServer(root=repo.root, routes=routes) as srv, pytest.raises(IntegrityError, match="BAD signature"):
        _client(tmp_path).release(AptSource(srv.base_url, ("stable",), ("main",), str(repo.keyring)), "stable")
