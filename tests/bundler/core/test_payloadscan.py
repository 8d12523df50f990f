"""One read of the payload: each volume's and each member's sha256 from the same bytes."""

from __future__ import annotations

import hashlib

from bundler import cli
from bundler.core import verify_payload
from bundler.core.archive import Payload, write_payload
from bundler.core.digest import sha256_file
from bundler.core.payloadscan import scan_payload
from bundler.core.verify import verify_bundle
from bundler.core.volumes import VolumeReader
from tests.support.synthetic import artifact, file_url, make_files, write_test_lock


def test_volume_and_member_sums_match_hashing_each_file_with_members_across_volume_ends(tmp_path):
    files = make_files(tmp_path / "src", {"a": 300_000, "b": 70_000, "c": 0, "d": 150_001})
    members = [(f"x/{n}", tmp_path / "src" / n) for n in files]
    (tmp_path / "out").mkdir()
    volumes = write_payload(tmp_path / "out", members, volume_size=65536)
    assert len(volumes) > 5
    with Payload(volumes) as payload:
        scan = scan_payload(payload)
    assert scan.error is None
    assert scan.volumes == {v.name: sha256_file(v) for v in volumes}
    assert scan.members == {f"x/{n}": hashlib.sha256(d).hexdigest() for n, d in files.items()}


def test_a_member_cut_short_by_a_missing_volume_is_named(tmp_path):
    files = make_files(tmp_path / "src", {"a": 300_000})
    (tmp_path / "out").mkdir()
    volumes = write_payload(tmp_path / "out", [("x/a", tmp_path / "src" / "a")], volume_size=65536)
    with Payload(volumes) as payload:
        short = Payload.__new__(Payload)  # the same header over the first two volumes only
        short.__dict__.update(payload.__dict__)
        short.reader = VolumeReader(volumes[:2])
        try:
            scan = scan_payload(short)
        finally:
            short.reader.close()
    assert scan.error == "payload member x/a: the volumes end before its last byte"
    assert "x/a" not in scan.members and files


def test_verify_reads_a_payload_too_big_for_the_cache_once_and_still_names_a_flipped_byte(tmp_path, monkeypatch):
    monkeypatch.setattr(verify_payload, "read_once_pays", lambda payload: True)
    files = make_files(tmp_path / "src", {"alpha": 200_000, "beta": 90_000})
    lock = tmp_path / "bundle.lock"
    write_test_lock(lock, [artifact(n, d, file_url(tmp_path / "src" / n)) for n, d in files.items()])
    out = tmp_path / "b"
    argv = ["build", "--lock", str(lock), "--out", str(out), "--cache", str(tmp_path / "c"), "--volume-size", "64k"]
    assert cli.main([*argv, "--quiet"]) == 0
    assert verify_bundle(out).ok
    with open(out / "payload.7z.002", "r+b") as f:
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 1]))
    text = "\n".join(verify_bundle(out).problems)
    assert "payload.7z.002: volume is damaged or altered" in text
    assert "binary alpha 1.0: payload member bin/alpha has sha256" in text
