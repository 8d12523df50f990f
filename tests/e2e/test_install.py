"""End to end: build a bundle from examples/debian-bookworm.yml, carry it into a debootstrapped
Debian 12 root with no network, run ``sh install.sh --yes`` there, and check the toolchain.

- Debs and the Ruby source come from Debian's archive as this machine's apt is configured (the
  mirror is read at run time); gems from the local replica of rubygems.org (``tests.support.gemrepo``,
  the bosh_cli 1.3147.0 closure), bosh-init from a loopback server holding the deploy issue's
  stand-in, both through ``--mirror``.  Releases and stemcells are left out of the spec here: their
  replicas are tested by the bosh issue, and they play no part in the install.
- The root: ``debootstrap --variant=minbase bookworm``, kept as a tarball under
  ``$BOSH_OFFLINE_E2E_CACHE`` (default /var/cache/bosh-offline-e2e) between runs, as is the bundle
  build cache (content-addressed: only the archive's bytes can land there).
- The install runs under ``unshare --net`` (only a loopback device, down) inside ``chroot``: anything
  that tried the network would fail.  Ruby 3.1.2 builds from source, about 5 minutes on 2 cores,
  once: the first run is killed (SIGKILL) during ``make`` and the rerun resumes with ``make``;
  while the rerun holds the state directory a second ``install.sh`` is refused naming its PID.
  Then ``bosh-install`` (kept in the root) runs ``status``, ``plan`` and ``verify`` there, and a
  second bundle with one changed artifact (bosh-init) installs on top, re-running only ``clis``.
- ``--dry-run`` and a root of another release run on fresh copies of the minbase root (seconds).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from installer.statelock import is_held
from tests.conftest import E2E_CACHE as CACHE
from tests.support.httpserver import LoopbackServer
from tests.support.paths import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.network]

BOSH_INIT_UPSTREAM = "https://s3.amazonaws.com/bosh-init-artifacts"
EXPECTED_DEBS = ("build-essential", "libssl-dev", "libreadline-dev", "libyaml-dev", "zlib1g-dev", "python3")


def _spec(tmp_path: Path, minbase_tar: Path) -> Path:
    spec = yaml.safe_load((REPO / "examples/debian-bookworm.yml").read_text())
    spec.pop("releases", None)
    spec.pop("stemcells", None)
    # the base is the target's own dpkg status (the spec allows a captured status file): the
    # resolver's computed 'minimal' base counts perl as installed, which a real minbase root lacks
    subprocess.run(["tar", "-C", str(tmp_path), "-xf", str(minbase_tar), "./var/lib/dpkg/status"], check=True)
    spec["debs"]["base"] = str(tmp_path / "var/lib/dpkg/status")
    path = tmp_path / "bundle.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _bosh_init_standin(tmp_path: Path) -> Path:
    standin = REPO / "tests/support/standins/bosh-init"
    served = tmp_path / "served"
    served.mkdir()
    dest = served / "bosh-init-0.0.81-linux-amd64"
    if standin.is_file():
        shutil.copyfile(standin, dest)
    else:  # until the deploy issue's stand-in lands
        dest.write_text("#!/bin/sh\necho 'version 0.0.81-stand-in'\n")
    return served


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, debian_archive, minbase_tar) -> Path:
    from bundler.cli import main as bundle_main
    from tests.support.gemrepo import build_bosh_cli_replica

    tmp_path = tmp_path_factory.mktemp("e2e-bundle")
    spec = _spec(tmp_path, minbase_tar)
    gem_repo = build_bosh_cli_replica(CACHE / "gems")
    served = _bosh_init_standin(tmp_path)
    cache = CACHE / "bundle-cache"
    with LoopbackServer(root=gem_repo) as gems, LoopbackServer(root=served) as files:
        mirrors = [
            "--mirror",
            f"https://rubygems.org={gems.base_url}",
            "--mirror",
            f"{BOSH_INIT_UPSTREAM}={files.base_url}",
        ]
        lock = tmp_path / "bundle.lock"
        assert bundle_main(["lock", "--spec", str(spec), "--lock", str(lock), "--cache", str(cache), *mirrors]) == 0
        out = tmp_path / "bundle"
        args = ["build", "--lock", str(lock), "--out", str(out), "--cache", str(cache), "--quiet", *mirrors]
        assert bundle_main(args) == 0
    for name in ("install.sh", "bootstrap.tar.gz", "bundle.lock", "SHA256SUMS"):
        assert (out / name).is_file(), name
    return out


@pytest.fixture(scope="module")
def second_bundle(bundle, tmp_path_factory) -> Path:
    """The same lock with one artifact changed (bosh-init), built from the same cache, and beside it
    (``delta``) the delta bundle of that lock since the first (``build --since``)."""
    from bundler.cli import main as bundle_main

    tmp_path = tmp_path_factory.mktemp("e2e-bundle2")
    served = tmp_path / "served"
    served.mkdir()
    lock = json.loads((bundle / "bundle.lock").read_text())
    (binary,) = [a for a in lock["artifacts"] if a["kind"] == "binary"]
    new = served / binary["url"].rsplit("/", 1)[-1]
    new.write_bytes((bundle.parent / "served" / new.name).read_bytes() + b"\n# a newer build\n")
    binary["sha256"], binary["size"] = hashlib.sha256(new.read_bytes()).hexdigest(), new.stat().st_size
    (tmp_path / "bundle.lock").write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    out = tmp_path / "bundle"
    with LoopbackServer(root=served) as files:
        args = [
            "build",
            "--lock",
            str(tmp_path / "bundle.lock"),
            "--out",
            str(out),
            "--cache",
            str(CACHE / "bundle-cache"),
        ]
        mirror = ["--mirror", f"{BOSH_INIT_UPSTREAM}={files.base_url}"]
        assert bundle_main([*args, "--quiet", *mirror]) == 0
        args[args.index("--out") + 1] = str(tmp_path / "delta")
        assert bundle_main([*args, "--quiet", *mirror, "--since", str(bundle / "bundle.lock")]) == 0
    return out


@pytest.fixture
def root(tmp_path, minbase_tar) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-xf", str(minbase_tar)], check=True)
    assert not (root / "usr/bin/python3").exists()  # the bundle must bring it
    return root


ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
STATE = "var/lib/bosh-offline"


def in_root(root: Path, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["chroot", str(root), *argv], capture_output=True, text=True, env=ENV, check=check)


def _offline(root: Path) -> list[str]:
    return ["unshare", "--net", "--mount", "--fork", f"--mount-proc={root}/proc", "chroot", str(root)]


def offline(root: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([*_offline(root), *argv], capture_output=True, text=True, env=ENV, timeout=3600)


def offline_install(root: Path, *args: str, bundle: str = "/root/bundle") -> subprocess.CompletedProcess:
    return offline(root, "sh", f"{bundle}/install.sh", *args)


def start_install(root: Path, *args: str) -> subprocess.Popen:
    argv = [*_offline(root), "sh", "/root/bundle/install.sh", *args]
    return subprocess.Popen(
        argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _wait(proc: subprocess.Popen, predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, f"the install ended before {what}: {proc.communicate()[1][-3000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _make_lines(log: Path) -> int:
    """Output lines of ``make`` so far in the Ruby log (0 before make started)."""
    if not log.is_file():
        return 0
    text = log.read_text(errors="replace")
    at = text.find(" $ make -j")
    return text[at:].count("\n") if at >= 0 else 0


def _seconds(log_text: str, start: str, end: str) -> float:
    """Seconds between the log lines of two commands (``$ ./configure``, ``$ make -j``)."""
    stamps = {}
    for line in log_text.splitlines():
        for key in (start, end):
            if f" $ {key}" in line and key not in stamps:
                stamps[key] = time.mktime(time.strptime(line[:19], "%Y-%m-%dT%H:%M:%S"))
    return stamps[end] - stamps[start]


def _journal(root: Path) -> dict:
    return json.loads((root / STATE / "journal.json").read_text())["steps"]


def kill_during_make_then_resume(root: Path) -> subprocess.CompletedProcess:
    """SIGKILL the first run during make; rerun, and while the rerun holds the state directory a
    second install.sh is refused naming its PID.  Returns the rerun."""
    log = root / STATE / "logs/ruby.log"
    first = start_install(root, "--yes")
    _wait(first, lambda: _make_lines(log) >= 150, 1800, "make to be under way")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert _journal(root)["ruby"]["state"] == "running"
    status = offline(root, "bosh-install", "status")
    assert status.returncode == 1 and re.search(r"^ruby +interrupted ", status.stdout, re.M), status.stdout

    started = time.monotonic()
    rerun = start_install(root, "--yes")
    _wait(rerun, lambda: is_held(root / STATE), 120, "the rerun to take the lock")
    holder = (root / STATE / "lock").read_text().strip()
    second = offline_install(root, "--yes")
    errors = [line for line in second.stderr.splitlines() if "error:" in line]
    assert second.returncode == 1 and len(errors) == 1 and f"held by process {holder}" in errors[0], second.stderr
    assert "install.sh" in Path(f"/proc/{holder}/cmdline").read_text()  # the rerun's shell
    out, err = rerun.communicate(timeout=3600)
    print(f"resumed install took {time.monotonic() - started:.0f} s")
    assert rerun.returncode == 0, f"{out}\n{err}"
    assert "resuming the interrupted build with make" in err
    text = log.read_text()
    assert text.count("$ ./configure --prefix") == 1  # configure did not run again
    saved = _seconds(text, "tar --no-same-owner", "make -j")
    print(f"kill -9 during make: the rerun skipped unpack + configure, {saved:.0f} s saved, and kept the objects")
    assert _journal(root)["ruby"]["facts"]["built"] == "resumed"
    return subprocess.CompletedProcess(rerun.args, rerun.returncode, out, err)


def assert_toolchain(root: Path, lock: dict) -> None:
    # debs: everything the lock carries is installed
    query = in_root(root, "dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n")
    installed = dict(line.split(" ", 1) for line in query.stdout.splitlines())
    for name in EXPECTED_DEBS:
        assert installed.get(name) == "installed", name
    for art in lock["artifacts"]:
        if art["kind"] == "deb":
            assert installed.get(art["name"].split(":")[0]) == "installed", art["name"]

    # Ruby from source with its extensions
    version = in_root(root, "/usr/local/bin/ruby", "-v").stdout
    assert version.startswith("ruby 3.1.2"), version
    script = 'require "openssl"; require "zlib"; require "psych"; require "readline"; puts OpenSSL::OPENSSL_VERSION'
    assert "OpenSSL" in in_root(root, "/usr/local/bin/ruby", "-e", script).stdout

    # gems: every locked gem listed by the target's gem
    listed = in_root(root, "/usr/local/bin/gem", "list", "--local").stdout
    assert "bosh_cli (1.3147.0)" in listed
    for art in lock["artifacts"]:
        if art["kind"] == "gem":
            assert f"{art['name']} (" in listed and art["version"] in listed, art["name"]

    # bosh-init on PATH, executable
    where = in_root(root, "sh", "-c", "command -v bosh-init").stdout.strip()
    assert where == "/usr/local/bin/bosh-init"
    assert (root / "usr/local/bin/bosh-init").stat().st_mode & 0o777 == 0o755
    assert {rec["state"] for rec in _journal(root).values()} == {"done"}


def test_install_sh_installs_the_toolchain_in_an_offline_debian_12_root(bundle, second_bundle, root):
    lock = json.loads((bundle / "bundle.lock").read_text())
    shutil.copytree(bundle, root / "root/bundle")
    kill_during_make_then_resume(root)
    assert_toolchain(root, lock)

    # the installer stays: bosh-install on PATH inside the root, offline
    assert in_root(root, "sh", "-c", "command -v bosh-install").stdout.strip() == "/usr/local/bin/bosh-install"
    for argv in (("status",), ("plan", "--bundle", "/root/bundle"), ("verify", "/root/bundle")):
        proc = offline(root, "bosh-install", *argv)
        assert proc.returncode == 0, f"bosh-install {' '.join(argv)}: {proc.stdout}\n{proc.stderr}"
    status = offline(root, "bosh-install", "status").stdout
    names = [line.split()[0] for line in status.splitlines()[1:]]
    assert names == ["verify", "extract", "installer", "debs", "ruby", "gems", "clis", "done"], status

    # a second run finds everything done
    again = offline_install(root, "--yes")
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stderr

    # a newer bundle with one changed artifact: only the step that consumes it runs again; the same
    # with its delta bundle on a copy of this root
    before = _journal(root)
    copy = root.parent / "copy"
    subprocess.run(["cp", "-a", str(root), str(copy)], check=True)
    shutil.copytree(second_bundle, root / "root/bundle2")
    started = time.monotonic()
    upgrade = offline_install(root, "--yes", bundle="/root/bundle2")
    upgrade_s = time.monotonic() - started
    assert upgrade.returncode == 0, upgrade.stderr
    after = _journal(root)
    rerun = {name for name in after if name != "done" and after[name]["started"] != before[name]["started"]}
    same_installer = _installer_digest(bundle) == _installer_digest(second_bundle)  # unless the sources moved
    assert rerun == {"verify", "extract", "clis"} | (set() if same_installer else {"installer"}), upgrade.stderr
    assert "clis: starting (done, but its inputs changed)" in upgrade.stderr
    assert (after["extract"]["facts"]["extracted"], after["extract"]["facts"]["changed"]) == (1, ["bin/bosh-init"])
    assert (root / "usr/local/bin/bosh-init").read_bytes().endswith(b"# a newer build\n")
    assert offline(root, "bosh-install", "verify", "/root/bundle2").returncode == 0

    delta = second_bundle.parent / "delta"
    assert json.loads((delta / "delta.json").read_text())["packed"] == ["bin/bosh-init"]
    shutil.copytree(delta, copy / "root/delta")
    started = time.monotonic()
    proc = offline_install(copy, "--yes", bundle="/root/delta")
    print(
        f"one changed artifact: full bundle {_size(second_bundle) / 1e6:.1f} MB, {upgrade_s:.0f} s;"
        f" delta bundle {_size(delta) / 1e6:.1f} MB, {time.monotonic() - started:.0f} s"
    )
    assert proc.returncode == 0, proc.stderr
    after = _journal(copy)
    rerun = {name for name in after if name != "done" and after[name]["started"] != before[name]["started"]}
    assert rerun == {"verify", "extract", "clis"} | (set() if same_installer else {"installer"}), proc.stderr
    assert (copy / "usr/local/bin/bosh-init").read_bytes().endswith(b"# a newer build\n")
    assert offline(copy, "bosh-install", "verify", "/root/delta").returncode == 0


def _size(bundle: Path) -> int:
    return sum(p.stat().st_size for p in bundle.iterdir() if p.is_file())


def test_a_delta_bundle_on_a_root_without_its_previous_payload_is_refused(second_bundle, root):
    shutil.copytree(second_bundle.parent / "delta", root / "root/delta")
    proc = offline_install(root, "--yes", bundle="/root/delta")
    assert proc.returncode == 2
    assert "a delta bundle" in proc.stderr and "lacks" in proc.stderr and "debs/" in proc.stderr, proc.stderr
    assert "install the full bundle of that lock first" in proc.stderr
    assert not (root / STATE / "payload").exists() and not (root / "usr/local/bin/bosh-init").exists()


def _installer_digest(bundle: Path) -> dict:
    from installer.steps import selfinstall

    return selfinstall.inputs(SimpleNamespace(bundle=bundle))


def test_install_sh_dry_run_on_a_fresh_root_changes_nothing(bundle, root):
    shutil.copytree(bundle, root / "root/bundle")
    status = (root / "var/lib/dpkg/status").read_bytes()
    proc = offline_install(root, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "run   verify" in proc.stdout and "run   ruby" in proc.stdout
    assert (root / "var/lib/dpkg/status").read_bytes() == status
    assert not (root / "usr/bin/python3").exists() and not (root / STATE).exists()
    assert not (root / "opt/bosh-offline").exists() and not (root / "usr/local/bin/bosh-install").exists()


def test_install_sh_refuses_another_release_before_any_dpkg(bundle, root):
    shutil.copytree(bundle, root / "root/bundle")
    status = (root / "var/lib/dpkg/status").read_bytes()
    (root / "etc/os-release").unlink()  # a symlink into usr/lib on Debian
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\n')
    proc = offline_install(root, "--yes")
    assert proc.returncode == 1
    assert "preflight failed, nothing was changed" in proc.stderr
    assert "this bundle is for debian 12 (bookworm) amd64, but /etc/os-release says debian 11 (bullseye)" in proc.stderr
    assert (root / "var/lib/dpkg/status").read_bytes() == status
    assert not (root / "usr/bin/python3").exists() and not (root / STATE).exists()
