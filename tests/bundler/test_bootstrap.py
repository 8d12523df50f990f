"""The bootstrap: a deterministic bootstrap.tar.gz and an install.sh that refuses what SHA256SUMS
does not vouch for, then brings up Python and runs the installer."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

from bundler.bootstrap import PROJECT_ROOT, write_bootstrap
from bundler.core.errors import BundleError
from bundler.core.lock import Artifact, Lock, parse_lock
from bundler.net.cache import artifact_path
from tests.support.installfixtures import TARGET, make_deb, write_sums
from tests.support.wheels import make_wheel


def _cache(cache, path):
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    dest = artifact_path(cache, sha)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return sha, len(data)


def _distro_lock(tmp_path):
    deb = make_deb(tmp_path / "src", "python3-standin", "3.11")
    sha, size = _cache(tmp_path / "cache", deb)
    art = Artifact("deb", "python3-standin", "3.11", "file://x", size, sha, "pinned", f"debs/{deb.name}")
    sections = {"runtime": {"mode": "distro"}, "debs": {"install_order": [art.path], "runtime": [art.path]}}
    return Lock("t", TARGET, (art,), sections)


def test_bootstrap_tarball_is_deterministic_and_carries_sources_and_runtime(tmp_path):
    lock = _distro_lock(tmp_path)
    write_bootstrap(lock, tmp_path / "one", tmp_path / "cache")
    write_bootstrap(lock, tmp_path / "two", tmp_path / "cache")
    one, two = (tmp_path / d / "bootstrap.tar.gz" for d in ("one", "two"))
    assert one.read_bytes() == two.read_bytes()
    with tarfile.open(one) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert tar.extractfile("runtime/debs.order").read() == b"python3-standin_3.11_all.deb\n"
        assert tar.extractfile("runtime/mode").read() == b"distro\n"
    assert "src/installer/steps/debs.py" in members and "src/bundler/core/lock.py" in members
    assert "runtime/debs/python3-standin_3.11_all.deb" in members
    assert not any("__pycache__" in n for n in members)
    assert {(m.mtime, m.uid, m.gid) for m in members.values()} == {(0, 0, 0)}
    assert list(members) == sorted(members)
    assert os.access(tmp_path / "one/install.sh", os.X_OK)


def test_bootstrap_needs_the_runtime_files_in_the_cache(tmp_path):
    lock = _distro_lock(tmp_path)
    shutil.rmtree(tmp_path / "cache")
    with pytest.raises(BundleError, match="not in the cache"):
        write_bootstrap(lock, tmp_path / "out", tmp_path / "cache")


def _run_sh(bundle, *args, env=None):
    return subprocess.run(
        ["sh", str(bundle / "install.sh"), *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def test_install_sh_refuses_a_corrupted_bootstrap_before_unpacking(tmp_path):
    bundle = tmp_path / "bundle"
    write_bootstrap(_distro_lock(tmp_path), bundle, tmp_path / "cache")
    write_sums(bundle)
    with open(bundle / "bootstrap.tar.gz", "r+b") as fh:
        fh.seek(100)
        fh.write(b"\0\1\2")
    proc = _run_sh(bundle, "--yes", env={"TMPDIR": str(tmp_path)})
    assert proc.returncode == 1
    assert "bootstrap.tar.gz has sha256" in proc.stderr and "corrupted" in proc.stderr
    assert not list(tmp_path.glob("bosh-offline.*"))  # nothing unpacked


def test_install_sh_refuses_a_bundle_without_a_sums_line(tmp_path):
    bundle = tmp_path / "bundle"
    write_bootstrap(_distro_lock(tmp_path), bundle, tmp_path / "cache")
    (bundle / "SHA256SUMS").write_text("")
    proc = _run_sh(bundle)
    assert proc.returncode == 1 and "no line for bootstrap.tar.gz" in proc.stderr


def test_install_sh_uses_a_good_distro_python_and_runs_the_installer(tmp_path):
    bundle = tmp_path / "bundle"
    lock = _distro_lock(tmp_path)
    write_bootstrap(lock, bundle, tmp_path / "cache")
    (bundle / "bundle.lock").write_text(lock.dumps())
    write_sums(bundle)
    proc = _run_sh(bundle, "plan", env={"TMPDIR": str(tmp_path)})
    # "plan" is passed through after "install --bundle DIR": argparse rejects it, proving the hand-over
    assert proc.returncode == 2 and "unrecognized arguments: plan" in proc.stderr
    assert "using this host's python3" in proc.stderr
    proc = _run_sh(bundle, "--dry-run", "--state-dir", str(tmp_path / "state"), env={"TMPDIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "run   verify" in proc.stdout
    assert not list(tmp_path.glob("bosh-offline.*"))  # temporary directory cleaned up


def test_install_sh_standalone_unpacks_python_and_wheels(tmp_path):
    # a stand-in "python-build-standalone" tarball: python/bin/python3 records what it sees, then runs
    # this machine's python3
    seen = tmp_path / "seen.txt"
    tree = tmp_path / "pbs"
    (tree / "python/bin").mkdir(parents=True)
    script = tree / "python/bin/python3"
    script.write_text(
        "#!/bin/sh\n"
        f'for d in $(echo "${{PYTHONPATH:-}}" | tr : " "); do ls "$d"; done >> {seen}\n'
        f'exec {shutil.which("python3")} "$@"\n'
    )
    script.chmod(0o755)
    pbs = tmp_path / "cpython-3.12.7+20241016-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
    with tarfile.open(pbs, "w:gz") as tar:
        tar.add(tree / "python", "python")
    wheel = make_wheel(tmp_path / "w", "tinylib", "2.1")
    cache = tmp_path / "cache"
    py_sha, py_size = _cache(cache, pbs)
    wh_sha, wh_size = _cache(cache, wheel)
    arts = (
        Artifact("runtime", "python", "3.12.7", "file://p", py_size, py_sha, "pinned", f"runtime/{pbs.name}"),
        Artifact("wheel", "tinylib", "2.1", "file://w", wh_size, wh_sha, "pinned", f"runtime/wheels/{wheel.name}"),
    )
    runtime = {"mode": "standalone", "python": arts[0].path, "wheels": [arts[1].path]}
    lock = Lock("t", TARGET, arts, {"runtime": runtime})
    bundle = tmp_path / "bundle"
    write_bootstrap(lock, bundle, cache)
    (bundle / "bundle.lock").write_text(lock.dumps())
    write_sums(bundle)
    # --help prints at once, from sh (nothing unpacked, no Python started)
    proc = _run_sh(bundle, "--help", env={"TMPDIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "--bundle" in proc.stdout
    assert not seen.exists() and not list(tmp_path.glob("bosh-offline.*"))
    # the installer runs with the bundled python and its wheels
    proc = _run_sh(bundle, "--dry-run", "--state-dir", str(tmp_path / "state"), env={"TMPDIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    listing = seen.read_text().split()
    assert "installer" in listing and "tinylib" in listing and "tinylib-2.1.dist-info" in listing
    assert parse_lock((bundle / "bundle.lock").read_text()).sections["runtime"]["mode"] == "standalone"
    assert json.loads((bundle / "bundle.lock").read_text())["sections"]["runtime"]["wheels"] == [arts[1].path]


def _sh_bundle(tmp_path):
    bundle = tmp_path / "bundle"
    lock = _distro_lock(tmp_path)
    write_bootstrap(lock, bundle, tmp_path / "cache")
    (bundle / "bundle.lock").write_text(lock.dumps())
    write_sums(bundle)
    return bundle


def test_install_sh_help_prints_at_once_and_checks_nothing(tmp_path):
    bundle = tmp_path / "empty"
    write_bootstrap(_distro_lock(tmp_path), bundle, tmp_path / "cache")  # no SHA256SUMS even
    proc = _run_sh(bundle, "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: sh install.sh") and "--dry-run" in proc.stdout
    assert proc.stderr == ""


def test_install_sh_refuses_another_release_before_the_installer_runs(tmp_path):
    bundle = _sh_bundle(tmp_path)
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=ubuntu\nVERSION_ID="14.04"\nVERSION_CODENAME=trusty\n')
    proc = _run_sh(bundle, "--yes", "--root", str(root), env={"TMPDIR": str(tmp_path)})
    assert proc.returncode == 1
    assert "preflight failed, nothing was changed" in proc.stderr
    assert (
        "this bundle is for debian 12 (bookworm) amd64, but" in proc.stderr and "ubuntu 14.04 (trusty)" in proc.stderr
    )
    assert "python3" not in proc.stderr  # refused before Python was looked at
    assert not (root / "var").exists() and not list(tmp_path.glob("bosh-offline.*"))


def test_install_sh_refuses_a_second_run_naming_the_first(tmp_path):
    bundle = _sh_bundle(tmp_path)
    state = tmp_path / "state"
    hold = "import sys, time; from installer.statelock import state_lock\nwith state_lock(sys.argv[1]):\n"
    hold += "    print('held', flush=True); time.sleep(60)\n"
    first = subprocess.Popen(
        [sys.executable, "-c", hold, str(state)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout.readline().strip() == "held"
        proc = _run_sh(bundle, "--yes", "--state-dir", str(state), env={"TMPDIR": str(tmp_path)})
    finally:
        first.kill()
        first.wait()
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(lines) == 1 and f"held by process {first.pid}" in lines[0], proc.stderr
