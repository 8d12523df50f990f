"""gpgv decides: a good signature gives the signed content and its signer, anything else a reason."""

from __future__ import annotations

import pytest

from bundler.apt.gpg import gpgv_verify, keyring_paths, strip_clearsign
from tests.support.aptrepo import build_repo, make_key


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return build_repo(tmp_path_factory.mktemp("repo"), [], gnupghome=tmp_path_factory.mktemp("gnupg"))


def test_clearsigned_and_detached_signatures(repo):
    dists = repo.root / "dists/stable"
    clear = gpgv_verify(dists / "InRelease", [str(repo.keyring)])
    assert clear.ok and clear.signer and clear.content == (dists / "Release").read_bytes()
    detached = gpgv_verify(dists / "Release", [str(repo.keyring)], dists / "Release.gpg")
    assert detached.ok and detached.signer == clear.signer


def test_wrong_key_tampered_text_and_unsigned_file(repo, tmp_path):
    dists = repo.root / "dists/stable"
    other = make_key(tmp_path / "other")
    assert gpgv_verify(dists / "InRelease", [str(other)]).reason.startswith("no public key in")
    tampered = tmp_path / "InRelease"
    tampered.write_text((dists / "InRelease").read_text().replace("Suite: stable", "Suite: evil!"))
    assert gpgv_verify(tampered, [str(repo.keyring)]).reason == "BAD signature"
    verdict = gpgv_verify(dists / "Release", [str(repo.keyring)])
    assert not verdict.ok and verdict.content == b""


def test_keyring_paths_and_clearsign_body(repo):
    assert keyring_paths(None) == [] and keyring_paths("/a.gpg") == ["/a.gpg"]
    text = (repo.root / "dists/stable/InRelease").read_text()
    assert strip_clearsign(text) == (repo.root / "dists/stable/Release").read_text()
    assert strip_clearsign("Suite: x\n") == "Suite: x\n"
