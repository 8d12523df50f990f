"""bosh-bundle build / verify / inspect / diff on small synthetic locks, through the real CLIs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from bundler import cli
from bundler.core.verify import verify_bundle
from bundler.net.cache import artifact_path
from installer import cli as install_cli
from tests.support.httpserver import LoopbackServer
from tests.support.paths import REPO
from tests.support.synthetic import artifact, file_url, make_files, write_test_lock

ROOT = REPO
SIZES = {"alpha": 150_000, "beta": 90_000, "gamma": 40_000, "empty": 0}


@pytest.fixture
def lock_file(tmp_path):
    files = make_files(tmp_path / "src", SIZES)
    arts = [artifact(n, d, file_url(tmp_path / "src" / n)) for n, d in files.items()]
    arts.append(artifact("deb1", files["gamma"], file_url(tmp_path / "src" / "gamma"), "deb", "debs/g_1_amd64.deb"))
    write_test_lock(tmp_path / "bundle.lock", arts)
    return tmp_path / "bundle.lock"


def build(tmp_path, lock_file, *extra, out="bundle"):
    return cli.main(
        ["build", "--lock", str(lock_file), "--out", str(tmp_path / out), "--cache", str(tmp_path / "cache"), "--quiet"]
        + list(extra)
    )


def test_build_writes_payload_lock_and_sums_that_sha256sum_accepts(tmp_path, lock_file, capsys):
    assert build(tmp_path, lock_file) == 0
    out = tmp_path / "bundle"
    names = {p.name for p in out.iterdir()} - {"install.sh", "bootstrap.tar.gz"}  # bootstrap, when present
    assert sorted(names) == ["SHA256SUMS", "bundle.json", "bundle.lock", "payload.7z", "sbom.cdx.json"]
    assert (out / "bundle.lock").read_bytes() == lock_file.read_bytes()
    subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=out, check=True)
    assert cli.main(["verify", str(out)]) == 0
    assert install_cli.main(["verify", str(out)]) == 0
    assert "OK" in capsys.readouterr().out
    report = verify_bundle(out)
    assert report.ok and report.members_checked == 5
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bundle.")]


def volumes_bundle(tmp_path, lock_file):
    assert build(tmp_path, lock_file, "--volume-size", "64k") == 0
    out = tmp_path / "bundle"
    vols = sorted(p.name for p in out.glob("payload.7z.*"))
    assert vols == ["payload.7z.001", "payload.7z.002", "payload.7z.003", "payload.7z.004", "payload.7z.005"]
    assert verify_bundle(out).ok
    return out


def problems(out) -> str:
    return "\n".join(verify_bundle(out).problems)


def test_verify_names_a_flipped_byte_in_a_volume_and_the_artifact(tmp_path, lock_file):
    out = volumes_bundle(tmp_path, lock_file)
    with open(out / "payload.7z.002", "r+b") as f:
        f.seek(1000)
        b = f.read(1)
        f.seek(1000)
        f.write(bytes([b[0] ^ 1]))
    text = problems(out)
    assert "payload.7z.002: volume is damaged or altered" in text
    assert "binary alpha 1.0: payload member bin/alpha has sha256" in text
    assert cli.main(["verify", str(out)]) == 1
    assert install_cli.main(["verify", str(out)]) == 1


def test_verify_names_the_truncated_volume(tmp_path, lock_file):
    out = volumes_bundle(tmp_path, lock_file)
    last = out / "payload.7z.005"
    os.truncate(last, last.stat().st_size - 10)
    text = problems(out)
    assert "payload.7z.005 is truncated" in text


def test_verify_names_the_missing_volume(tmp_path, lock_file):
    out = volumes_bundle(tmp_path, lock_file)
    (out / "payload.7z.003").unlink()
    text = problems(out)
    assert "payload.7z.003 is missing" in text


def test_verify_names_a_stray_file_and_an_edited_lock(tmp_path, lock_file, capsys):
    out = volumes_bundle(tmp_path, lock_file)
    (out / "notes.txt").write_text("hello")
    lock = json.loads((out / "bundle.lock").read_text())
    lock["artifacts"][0]["sha256"] = "0" * 64
    (out / "bundle.lock").write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    with open(out / "SHA256SUMS", "a") as f:
        f.write(f"{'1' * 64}  ../outside\n")
    text = problems(out)
    assert "SHA256SUMS names '../outside', which is not a file inside the bundle" in text
    assert "notes.txt: stray file" in text
    assert "bundle.lock does not match SHA256SUMS" in text
    assert f"bundle.lock says {'0' * 64}" in text
    capsys.readouterr()  # build's summary line
    assert cli.main(["verify", "--json", str(out)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and len(report["problems"]) == 4


def test_an_encrypted_bundle_needs_its_password(tmp_path, lock_file, monkeypatch):
    monkeypatch.setenv("BOSH_BUNDLE_PASSWORD", "s3cret")
    assert build(tmp_path, lock_file, "--encrypt", "--volume-size", "100k") == 0
    out = tmp_path / "bundle"
    assert b"bin/alpha" not in b"".join(p.read_bytes() for p in out.glob("payload.7z.*"))
    assert verify_bundle(out, password="s3cret").ok
    assert cli.main(["verify", str(out)]) == 0
    assert "wrong password" in "\n".join(verify_bundle(out, password="nope").problems)
    monkeypatch.delenv("BOSH_BUNDLE_PASSWORD")
    assert cli.main(["verify", str(out)]) == 2  # no terminal to ask on


def test_a_failed_build_leaves_nothing_behind(tmp_path, lock_file):
    (tmp_path / "src" / "beta").write_bytes(b"changed upstream")
    assert build(tmp_path, lock_file) == 1
    assert not (tmp_path / "bundle").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_build_over_loopback_with_faults_gives_a_correct_bundle(tmp_path):
    files = make_files(tmp_path / "srv", {"a": 400_000, "b": 300_000, "c": 1000})
    with LoopbackServer(root=tmp_path / "srv") as srv:
        arts = [artifact(n, d, srv.url(n)) for n, d in files.items()]
        write_test_lock(tmp_path / "bundle.lock", arts)
        srv.faults["/a"] = {"drop_after": 100_000}
        srv.faults["/b"] = {"ignore_range": True, "drop_after": 200_000}
        srv.faults["/c"] = {"status": 503}
        assert build(tmp_path, tmp_path / "bundle.lock") == 1  # c keeps failing
        srv.faults.pop("/c")
        srv.faults.pop("/b")
        assert build(tmp_path, tmp_path / "bundle.lock") == 0
        assert verify_bundle(tmp_path / "bundle").ok
        srv.wait_idle()
        assert srv.bytes_sent["/a"] == 400_000  # resumed, never re-sent


def test_kill_9_during_download_resumes_and_fetches_no_byte_twice(tmp_path):
    size = 3_000_000
    files = make_files(tmp_path / "srv", {"big": size, "small": 5000})
    with LoopbackServer(root=tmp_path / "srv") as srv:
        srv.faults["/big"] = {"rate": 1_000_000}
        arts = [artifact(n, d, srv.url(n)) for n, d in files.items()]
        write_test_lock(tmp_path / "bundle.lock", arts)
        cmd = [sys.executable, "-m", "bundler", "build", "--lock", str(tmp_path / "bundle.lock"), "--quiet"]
        cmd += ["--out", str(tmp_path / "bundle"), "--cache", str(tmp_path / "cache")]
        proc = subprocess.Popen(cmd, cwd=ROOT)
        part = artifact_path(tmp_path / "cache", arts[0].sha256)
        part = part.with_name(part.name + ".part")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not part.exists() or part.stat().st_size < 500_000):
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kept = part.stat().st_size
        assert 500_000 <= kept < size
        srv.wait_idle()  # the server counts the killed response once its write fails
        before = srv.bytes_sent["/big"]
        srv.faults.clear()
        assert build(tmp_path, tmp_path / "bundle.lock") == 0
        assert verify_bundle(tmp_path / "bundle").ok
        assert ("/big", f"bytes={kept}-") in srv.ranges
        # The resumed build asked for exactly the bytes the .part lacked: none twice.  (The killed
        # process may have had some bytes in socket buffers; those never reached the .part.)
        srv.wait_idle()
        assert srv.bytes_sent["/big"] - before == size - kept
        assert srv.requests["/big"] == 2


def test_inspect_and_diff(tmp_path, lock_file, capsys):
    assert build(tmp_path, lock_file) == 0
    capsys.readouterr()
    assert cli.main(["inspect", "--json", str(tmp_path / "bundle")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["count"] == 5 and info["volumes"][0]["name"] == "payload.7z"
    assert sorted(info["artifacts"]) == ["binary", "deb"]
    assert cli.main(["inspect", str(tmp_path / "bundle")]) == 0
    assert "total: 5 artifacts" in capsys.readouterr().out

    old = json.loads(lock_file.read_text())
    new = json.loads(lock_file.read_text())
    new["artifacts"] = [a for a in new["artifacts"] if a["name"] != "beta"]
    for a in new["artifacts"]:
        if a["name"] == "alpha":
            a["version"] = "2.0"
    new["artifacts"].append({**old["artifacts"][0], "name": "delta", "path": "bin/delta"})
    (tmp_path / "new.lock").write_text(json.dumps(new))
    # the locks differ: exit 1, as diff(1) does (issue 17)
    assert cli.main(["diff", "--json", str(lock_file), str(tmp_path / "new.lock")]) == 1
    d = json.loads(capsys.readouterr().out)
    assert [a["name"] for a in d["added"]] == ["delta"]
    assert [a["name"] for a in d["removed"]] == ["beta"]
    assert [(c["name"], c["fields"]) for c in d["changed"]] == [("alpha", ["version"])]
    assert cli.main(["diff", str(lock_file), str(tmp_path / "new.lock")]) == 1
    assert "~ binary alpha 1.0 -> 2.0" in capsys.readouterr().out
