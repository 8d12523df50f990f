"""bosh-bundle resplit: the payload cut at other boundaries, a new SHA256SUMS, verified; nothing left on failure."""

from __future__ import annotations

import subprocess

import pytest

from bundler import cli
from bundler.core.verify import verify_bundle
from bundler.core.volumes import find_volumes
from tests.support.synthetic import artifact, file_url, make_files, write_test_lock

SIZES = {"alpha": 400_000, "beta": 250_000, "gamma": 90_000, "empty": 0}


def _payload(bundle):
    return b"".join(v.read_bytes() for v in find_volumes(bundle))


@pytest.fixture
def bundle(tmp_path):
    files = make_files(tmp_path / "src", SIZES)
    lock = tmp_path / "bundle.lock"
    write_test_lock(lock, [artifact(n, d, file_url(tmp_path / "src" / n)) for n, d in files.items()])
    out = tmp_path / "b"
    argv = ["build", "--lock", str(lock), "--out", str(out), "--cache", str(tmp_path / "c"), "--volume-size", "300k"]
    assert cli.main([*argv, "--quiet"]) == 0
    return out


def test_resplit_round_trip_is_verified_and_keeps_the_payload_bytes(bundle, tmp_path, capsys):
    before = _payload(bundle)
    assert [v.name for v in find_volumes(bundle)] == ["payload.7z.001", "payload.7z.002", "payload.7z.003"]
    assert cli.main(["resplit", str(bundle), "--volume-size", "64k", "--out", str(tmp_path / "small")]) == 0
    assert "verified: OK" in capsys.readouterr().out
    small = find_volumes(tmp_path / "small")
    assert len(small) == -(-len(before) // 65536) and all(v.stat().st_size == 65536 for v in small[:-1])
    assert (
        cli.main(
            ["resplit", "--bundle", str(tmp_path / "small"), "--volume-size", "none", "--out", str(tmp_path / "one")]
        )
        == 0
    )
    assert [v.name for v in find_volumes(tmp_path / "one")] == ["payload.7z"]
    for d in (tmp_path / "small", tmp_path / "one"):
        assert _payload(d) == before
        assert verify_bundle(d).ok
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=d, check=True)
        assert (d / "bundle.lock").read_bytes() == (bundle / "bundle.lock").read_bytes()


def test_a_damaged_volume_is_refused_and_nothing_is_left(bundle, tmp_path, capsys):
    vol = bundle / "payload.7z.002"
    data = bytearray(vol.read_bytes())
    data[1000] ^= 1
    vol.write_bytes(bytes(data))
    assert cli.main(["resplit", str(bundle), "--volume-size", "1m", "--out", str(tmp_path / "new")]) == 1
    err = capsys.readouterr().err
    assert "payload.7z.002: volume is damaged or altered" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "bundle.lock", "c", "src"]


def test_bad_input_is_one_line_and_exit_2(bundle, tmp_path, capsys):
    assert cli.main(["resplit", str(bundle), "--volume-size", "12q", "--out", str(tmp_path / "n")]) == 2
    assert cli.main(["resplit", str(tmp_path / "nope"), "--volume-size", "1m", "--out", str(tmp_path / "n")]) == 2
    assert cli.main(["resplit", str(bundle), "--volume-size", "1m", "--out", str(bundle)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("bosh-bundle: error: ") for line in err), err


def test_dry_run_names_the_new_volumes_and_writes_nothing(bundle, tmp_path, capsys):
    before = sorted(p.name for p in tmp_path.iterdir())
    payload = len(_payload(bundle))
    assert (
        cli.main(["resplit", str(bundle), "--volume-size", "64k", "--out", str(tmp_path / "small"), "--dry-run"]) == 0
    )
    out = capsys.readouterr().out
    count = -(-payload // 65536)
    assert f"from 3 into {count} volume(s) (payload.7z.001 … payload.7z.{count:03d})" in out
    assert out.rstrip().endswith("dry run: nothing was changed")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert cli.main(["resplit", str(bundle), "--volume-size", "64k", "--out", str(tmp_path / "small")]) == 0
    assert len(find_volumes(tmp_path / "small")) == count  # the plan said what the run wrote
    assert cli.main(["resplit", str(bundle), "--volume-size", "1m", "--out", str(bundle), "--dry-run"]) == 2
