"""``bosh-install install --root DIR`` in a minimal chroot with real dpkg: a full run, SIGKILL at
each long step followed by a rerun that completes, and bad input refused before anything changes."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from bundler.core.lock import read_lock
from installer.cli import main
from installer.hostcheck import Host, host_problems
from tests.support.installfixtures import BundleFiles, dpkg_status, make_deb, make_gem, make_ruby_source, write_bundle
from tests.support.miniroot import copy_miniroot, make_miniroot
from tests.support.paths import REPO

STATE = "var/lib/bosh-offline"


@pytest.fixture(scope="session")
def miniroot_template(tmp_path_factory):
    return make_miniroot(tmp_path_factory.mktemp("miniroot") / "root")


@pytest.fixture
def root(miniroot_template, tmp_path):
    return copy_miniroot(miniroot_template, tmp_path / "root")


def build_bundle(tmp_path, *, deb_sleep=0, make_sleep=0, gem_sleep=0, target=None):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    files = BundleFiles()
    if target:
        files.target.update(target)
    post = f"[ -f /tmp/deb-slept ] || {{ touch /tmp/deb-slept; sleep {deb_sleep}; }}" if deb_sleep else "true"
    a = make_deb(src, "bosh-offline-test-a", "1.0", postinst="echo configured > /usr/share/bosh-offline-test-a/ok")
    b = make_deb(src, "bosh-offline-test-b", "2.0", depends="bosh-offline-test-a", postinst=post)
    files.add("deb", a.name.split("_")[0], "1.0", f"debs/{a.name}", a)
    files.add("deb", b.name.split("_")[0], "2.0", f"debs/{b.name}", b)
    ruby = make_ruby_source(src, flavour="standin", slow=make_sleep, slow_gems=gem_sleep)
    files.add("ruby-source", "ruby", "3.1.2", f"ruby/{ruby.name}", ruby)
    for name, version in (("tinylib", "1.2.0"), ("tinyapp", "0.3.0")):
        gem = make_gem(src, name, version)
        files.add("gem", name, version, f"gems/{gem.name}", gem)
    tool = src / "bosh-init"
    tool.write_text("#!/bin/sh\necho 'version 0.0.81-stand-in'\n")
    files.add("binary", "bosh-init", "0.0.81", "bin/bosh-init", tool)
    files.sections = {
        "debs": {"install_order": [f"debs/{a.name}", f"debs/{b.name}"]},
        "ruby": {"version": "3.1.2", "prefix": "/usr/local", "configure": ["--disable-install-doc"]},
    }
    bundle = tmp_path / "bundle"
    write_bundle(files, bundle)
    return bundle


def journal_states(root):
    data = json.loads((root / STATE / "journal.json").read_text())
    return {name: rec["state"] for name, rec in data["steps"].items()}


def assert_installed(root):
    status = dpkg_status(root)
    assert status["bosh-offline-test-a"] == status["bosh-offline-test-b"] == "install ok installed"
    assert (root / "usr/share/bosh-offline-test-a/ok").read_text() == "configured\n"  # postinst ran in the root
    assert (root / "usr/local/bin/ruby").is_file()
    assert (root / "usr/local/lib/standin-gems").read_text().split("\n").count("tinyapp (0.3.0)") >= 1
    tool = root / "usr/local/bin/bosh-init"
    assert tool.stat().st_mode & 0o777 == 0o755
    assert set(journal_states(root).values()) == {"done"}


def test_install_into_a_root_installs_everything_inside_it(tmp_path, root, capsys):
    bundle = build_bundle(tmp_path)
    assert main(["install", "--bundle", str(bundle), "--root", str(root), "--yes"]) == 0
    assert_installed(root)
    err = capsys.readouterr().err
    assert "ruby: make" in err and "clis: bosh-init" in err
    assert (root / STATE / "logs/install.log").read_text().startswith("20")  # timestamped lines
    assert "Setting up bosh-offline-test-b" in (root / STATE / "logs/debs.log").read_text()


def _start(bundle, root):
    return subprocess.Popen(
        [sys.executable, "-m", "installer", "install", "--bundle", str(bundle), "--root", str(root), "--yes"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _kill_when(proc, predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the installer never reached the point to kill it at"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize(
    ("step", "slow", "marker"),
    [
        ("debs", {"deb_sleep": 30}, "tmp/deb-slept"),
        ("ruby", {"make_sleep": 30}, "tmp/make-slept"),
        ("gems", {"gem_sleep": 30}, "tmp/gems-slept"),
    ],
)
def test_sigkill_during_a_step_then_rerun_completes(tmp_path, root, step, slow, marker):
    bundle = build_bundle(tmp_path, **slow)
    proc = _start(bundle, root)
    _kill_when(proc, lambda: (root / marker).exists())
    assert journal_states(root)[step] == "running"
    assert main(["status", "--root", str(root)]) == 1  # not everything done
    rerun = subprocess.run(
        [sys.executable, "-m", "installer", "install", "--bundle", str(bundle), "--root", str(root), "--yes"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{step}: starting (was interrupted; runs again)" in rerun.stderr
    assert_installed(root)


def _untouched(root):
    return not (root / STATE).exists() and dpkg_status(root) == {} and not (root / "usr/local/bin/bosh-init").exists()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"arch": "arm64"}, "this bundle is for arm64, but this machine is amd64"),
        ({"release": "14.04", "os": "ubuntu", "codename": "trusty"}, "this bundle is for ubuntu 14.04 (trusty)"),
    ],
)
def test_a_bundle_for_another_host_is_refused_before_any_change(tmp_path, root, capsys, target, message):
    bundle = build_bundle(tmp_path, target=target)
    assert main(["install", "--bundle", str(bundle), "--root", str(root), "--yes"]) == 1
    err = capsys.readouterr().err
    assert "preflight failed, nothing was changed" in err and message in err
    assert _untouched(root)


def test_a_corrupted_payload_is_refused_before_any_package_is_installed(tmp_path, root, capsys):
    bundle = build_bundle(tmp_path)
    payload = bundle / "payload.7z"
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0xFF
    payload.write_bytes(bytes(data))
    assert main(["install", "--bundle", str(bundle), "--root", str(root), "--yes"]) == 1
    assert "payload.7z" in capsys.readouterr().err
    assert dpkg_status(root) == {} and not (root / "usr/local/bin/bosh-init").exists()
    assert not (root / STATE / "payload").exists()
    assert journal_states(root) == {"verify": "failed"}


def test_insufficient_disk_is_refused_before_any_change(tmp_path, root, capsys):
    bundle = build_bundle(tmp_path)
    state = root / STATE
    state.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(state)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        assert main(["install", "--bundle", str(bundle), "--root", str(root), "--yes"]) == 1
        err = capsys.readouterr().err
        assert "free, need" in err and "--state-dir" in err
        assert list(state.iterdir()) == [] and dpkg_status(root) == {}
    finally:
        subprocess.run(["umount", str(state)], check=True)


def test_host_checks_list_every_problem_including_not_root(tmp_path, root):
    bundle = build_bundle(tmp_path, target={"arch": "arm64"})
    lock = read_lock(bundle / "bundle.lock")
    host = Host(root, euid=1000, free_bytes=lambda _p: 10)
    problems = [str(p) for p in host_problems(lock, bundle, host, root / STATE, chroot=True, needs_dpkg=True)]
    assert len(problems) == 3
    assert "must run as root" in problems[0] and "arm64" in problems[1] and "free, need" in problems[2]


def test_a_deb_that_fails_is_named_with_dpkgs_message(tmp_path, root, capsys):
    src = tmp_path / "src"
    src.mkdir()
    bad = make_deb(src, "bosh-offline-test-bad", "1.0", postinst="echo 'cannot set up' >&2; exit 3")
    files = BundleFiles()
    files.add("deb", "bosh-offline-test-bad", "1.0", f"debs/{bad.name}", bad)
    files.sections = {"debs": {"install_order": [f"debs/{bad.name}"]}}
    write_bundle(files, tmp_path / "bundle")
    assert main(["install", "--bundle", str(tmp_path / "bundle"), "--root", str(root), "--yes"]) == 1
    err = capsys.readouterr().err
    assert "dpkg could not install bosh-offline-test-bad" in err
    assert "installed bosh-offline-test-bad package post-installation script subprocess returned error" in err
    assert journal_states(root)["debs"] == "failed"
