"""The payload: the split archive reads back exactly, whatever the volume size, and 7-Zip reads it."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

from bundler.core.archive import Payload, write_payload
from bundler.core.volumes import find_volumes
from tests.support.synthetic import make_files


@pytest.mark.parametrize("volume", [None, 65536, 65537, 300_000])
def test_members_read_back_exactly_across_volume_boundaries(tmp_path, volume):
    files = make_files(tmp_path / "src", {"a": 100_000, "b": 1, "c": 250_000, "d": 0})
    members = [(f"bin/{n}", tmp_path / "src" / n) for n in files]
    (tmp_path / "out").mkdir()
    vols = write_payload(tmp_path / "out", members, volume_size=volume)
    assert vols == find_volumes(tmp_path / "out")
    if volume:
        assert all(v.stat().st_size == volume for v in vols[:-1]) and vols[-1].stat().st_size <= volume
    with Payload(vols) as payload:
        assert payload.direct
        got = {m.name: b"".join(payload.iter_member(m)) for m in payload.members}
        assert got == {f"bin/{n}": d for n, d in files.items()}
        streamed: dict[str, hashlib._Hash] = {}
        payload.stream(lambda n, b: streamed.setdefault(n, hashlib.sha256()).update(b))
        assert {n: h.hexdigest() for n, h in streamed.items()} == {
            f"bin/{n}": hashlib.sha256(d).hexdigest() for n, d in files.items() if d
        }


@pytest.mark.skipif(shutil.which("7zz") is None, reason="needs 7-Zip's 7zz (Debian package '7zip')")
@pytest.mark.parametrize("volume, password", [(None, None), (100_000, None), (100_000, "pw")])
def test_real_7zip_reads_our_payloads(tmp_path, volume, password):
    files = make_files(tmp_path / "src", {"a": 150_000, "b": 70_000})
    (tmp_path / "out").mkdir()
    vols = write_payload(
        tmp_path / "out", [(f"debs/{n}", tmp_path / "src" / n) for n in files], volume_size=volume, password=password
    )
    cmd = ["7zz", "x", "-y", f"-o{tmp_path / 'x'}", str(vols[0])] + ([f"-p{password}"] if password else [])
    subprocess.run(cmd, check=True, capture_output=True)
    assert {n: (tmp_path / "x" / "debs" / n).read_bytes() for n in files} == files
