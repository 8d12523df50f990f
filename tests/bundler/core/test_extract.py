"""Safe extraction: hostile payloads are refused before anything is written, nothing leaks out."""

from __future__ import annotations

import os

import py7zr
import pytest

from bundler.core.errors import InputError, IntegrityError
from bundler.core.extract import extract_payload
from tests.support.synthetic import artifact, write_test_lock


def lock_for(tmp_path, members: dict[str, bytes]):
    arts = [artifact(p.rsplit("/", 1)[-1], d, "http://127.0.0.1/x", path=p) for p, d in members.items()]
    return write_test_lock(tmp_path / "bundle.lock", arts)


def make_payload(bundle, entries):
    bundle.mkdir(exist_ok=True)
    with py7zr.SevenZipFile(bundle / "payload.7z", "w", filters=[{"id": py7zr.FILTER_COPY}]) as z:
        for name, data in entries:
            z._writestr(data, name)  # the private writer does not refuse hostile names
    return bundle


def nothing_leaked(tmp_path, before):
    after = {p for p in tmp_path.rglob("*")}
    new = {p for p in after - before if "bundle" not in p.parts}
    assert not new, new
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".staging")]


def test_extracts_a_good_payload_into_place(tmp_path):
    members = {"bin/a": b"a" * 1000, "debs/b.deb": b"b" * 10, "bin/empty": b""}
    lock = lock_for(tmp_path, members)
    bundle = make_payload(tmp_path / "bundle", sorted(members.items()))
    dest = extract_payload(bundle, tmp_path / "out", lock)
    assert {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()} == members


@pytest.mark.parametrize(
    "hostile, expect",
    [
        ("../evil", "unsafe path"),
        ("bin/../../evil", "unsafe path"),
        ("/tmp/evil-absolute", "unsafe path"),
        ("bin/extra", "not in bundle.lock"),
    ],
)
def test_hostile_member_names_are_refused_before_writing(tmp_path, hostile, expect):
    good = {"bin/a": b"a" * 100}
    lock = lock_for(tmp_path, good)
    bundle = make_payload(tmp_path / "bundle", [("bin/a", good["bin/a"]), (hostile, b"pwned")])
    before = set(tmp_path.rglob("*"))
    with pytest.raises(IntegrityError, match=expect):
        extract_payload(bundle, tmp_path / "out", lock)
    assert not (tmp_path / "out").exists()
    assert not os.path.exists("/tmp/evil-absolute")
    nothing_leaked(tmp_path, before)


def test_symlink_members_are_refused(tmp_path):
    src = tmp_path / "a" / "b" / "src"
    src.mkdir(parents=True)
    (tmp_path / "secret").write_text("outside")
    os.symlink("../../../secret", src / "link")  # from out/bin/link this leaves the target
    lock = lock_for(tmp_path, {"bin/link": b"x"})
    (tmp_path / "bundle").mkdir()
    with py7zr.SevenZipFile(tmp_path / "bundle" / "payload.7z", "w", filters=[{"id": py7zr.FILTER_COPY}]) as z:
        z.write(src / "link", "bin/link")
    before = set(tmp_path.rglob("*"))
    with pytest.raises(IntegrityError, match="bin/link is a symlink"):
        extract_payload(tmp_path / "bundle", tmp_path / "out", lock)
    nothing_leaked(tmp_path, before)


def test_a_member_larger_than_the_lock_says_is_refused(tmp_path):
    lock = lock_for(tmp_path, {"bin/a": b"a" * 10})
    bundle = make_payload(tmp_path / "bundle", [("bin/a", b"a" * 10_000_000)])
    before = set(tmp_path.rglob("*"))
    with pytest.raises(IntegrityError, match="more than the 10 bytes"):
        extract_payload(bundle, tmp_path / "out", lock)
    nothing_leaked(tmp_path, before)


def test_wrong_bytes_remove_the_staging_directory(tmp_path):
    lock = lock_for(tmp_path, {"bin/a": b"a" * 100, "bin/b": b"b" * 100})
    bundle = make_payload(tmp_path / "bundle", [("bin/a", b"a" * 100), ("bin/b", b"c" * 100)])
    before = set(tmp_path.rglob("*"))
    with pytest.raises(IntegrityError, match="bin/b has 100 bytes with sha256"):
        extract_payload(bundle, tmp_path / "out", lock)
    nothing_leaked(tmp_path, before)


def test_encrypted_payloads_extract_with_the_password(tmp_path, monkeypatch):
    members = {"bin/a": b"a" * 1000, "releases/r-1.tgz": b"r" * 5000}
    lock = lock_for(tmp_path, members)
    (tmp_path / "bundle").mkdir()
    filters = [{"id": py7zr.FILTER_COPY}, {"id": py7zr.FILTER_CRYPTO_AES256_SHA256}]
    with py7zr.SevenZipFile(
        tmp_path / "bundle" / "payload.7z", "w", filters=filters, password="pw", header_encryption=True
    ) as z:
        for name, data in sorted(members.items()):
            z.writestr(data, name)
    monkeypatch.delenv("BOSH_BUNDLE_PASSWORD", raising=False)
    with pytest.raises(InputError, match="encrypted"):
        extract_payload(tmp_path / "bundle", tmp_path / "out", lock)
    dest = extract_payload(tmp_path / "bundle", tmp_path / "out", lock, password="pw")
    assert (dest / "releases" / "r-1.tgz").read_bytes() == members["releases/r-1.tgz"]
    monkeypatch.setenv("BOSH_BUNDLE_PASSWORD", "pw")  # what the installer's extract step relies on
    assert extract_payload(tmp_path / "bundle", tmp_path / "out2", lock).is_dir()


def test_refuses_a_destination_that_is_not_empty(tmp_path):
    lock = lock_for(tmp_path, {"bin/a": b"a"})
    bundle = make_payload(tmp_path / "bundle", [("bin/a", b"a")])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        extract_payload(bundle, tmp_path / "out", lock)
