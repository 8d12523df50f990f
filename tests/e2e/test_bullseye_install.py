"""End to end on a Debian 11 target: the guide's deb list for bullseye with updates and security,
locked, built and verified here, installed offline by ``bosh-install`` into a copy of a
debootstrapped bullseye root.

- The spec: target debian 11 bullseye amd64; apt sources bullseye, bullseye-updates and
  bullseye-security from this machine's Debian mirror and security archive (read from its apt
  configuration at run time, as tests/agreement/test_debs_target.py reads them; skipped when no
  security archive is configured or a suite is missing there); ``debs.packages`` the guide's list;
  ``debs.base`` the root's own ``/var/lib/dpkg/status``; no runtime section.  ``runtime: distro`` is
  refused by ``lock`` (exit 2, naming ``standalone``): bullseye's python3 cannot run the installer.
- The root: ``debootstrap --variant=minbase bullseye`` (``bullseye_minbase_tar``, cached under
  ``$BOSH_OFFLINE_E2E_CACHE``), unpacked afresh into the test's temporary directory.
- Why the installer runs from this host against ``--root`` and not inside the root: bullseye's
  python3 is 3.9, older than the installer needs (py7zr and boto3 need >= 3.10), so the root's own
  python3 cannot run it; the ``standalone`` runtime (a python-build-standalone tarball) would, but it
  is published on GitHub, which these machines cannot reach, so no bundle with it can be built here.
  ``bosh-install install --root`` runs dpkg inside the root through chroot, which is what an
  install.sh run in the root would do for the debs.
- The install runs under ``unshare --net`` (no network device but a loopback, down): nothing can
  be fetched.  Then every locked deb is installed in the root at its locked version, ``dpkg --audit``
  is clean, and gcc in the root compiles and runs a tiny C program against zlib and OpenSSL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bundler.core.lock import read_lock
from tests.agreement.test_debs_target import GUIDE, archives, suite_url
from tests.conftest import E2E_CACHE
from tests.support.paths import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.network, pytest.mark.slow]

RELEASE = "bullseye"
SUITES = (RELEASE, f"{RELEASE}-updates", f"{RELEASE}-security")
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
PROGRAM = r"""#include <stdio.h>
#include <zlib.h>
#include <openssl/crypto.h>
int main(void) { printf("zlib %s, %s\n", zlibVersion(), OpenSSL_version(OPENSSL_VERSION)); return 0; }
"""


def _sources() -> list[dict]:
    """The three bullseye suites as spec sources, from this machine's apt configuration."""
    mirror, security, keyring = archives()
    if security is None:
        pytest.skip("this machine's apt configuration has no security archive (bullseye-security)")
    if keyring is None:
        pytest.skip("this machine's Debian source names no keyring (signed-by)")
    out = []
    for suite in SUITES:
        url = suite_url(RELEASE, suite, mirror, security)
        if url is None:
            pytest.skip(f"{suite} is not reachable on this machine's configured archives")
        out.append({"url": url, "suites": [suite], "components": ["main"], "keyring": keyring})
    return out


def _run(*argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=timeout)


def _in_root(root: Path, *argv: str) -> subprocess.CompletedProcess:
    offline = ["unshare", "--net", "--mount", "--fork", f"--mount-proc={root}/proc", "chroot", str(root)]
    return subprocess.run([*offline, *argv], capture_output=True, text=True, env=ENV, timeout=300)


def test_guide_bundle_installs_offline_into_a_bullseye_root(tmp_path, debian_archive, bullseye_minbase_tar, capsys):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root, chroot and unshare")
    started = time.monotonic()
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-xf", str(bullseye_minbase_tar)], check=True)
    spec = {
        "name": "guide-bullseye",
        "target": {"os": "debian", "release": "11", "codename": RELEASE, "arch": "amd64"},
        "apt": {"sources": _sources()},
        "debs": {"base": str(root / "var/lib/dpkg/status"), "packages": GUIDE.split()},
    }
    bundle, lock, cache = tmp_path / "bundle", tmp_path / "bundle.lock", str(E2E_CACHE / "bundle-cache")
    bosh_bundle = [sys.executable, "-m", "bundler", "--quiet"]

    locking = [*bosh_bundle, "lock", "--spec", str(tmp_path / "bundle.yml"), "--lock", str(lock), "--cache", cache]
    (tmp_path / "bundle.yml").write_text(yaml.safe_dump({**spec, "runtime": {"mode": "distro"}}, sort_keys=False))
    proc = _run(*locking)
    assert proc.returncode == 2 and "python3 is 3.9" in proc.stderr and "standalone" in proc.stderr, proc.stderr
    assert not lock.exists()
    (tmp_path / "bundle.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    proc = _run(*locking)
    assert proc.returncode == 0, proc.stderr
    proc = _run(*bosh_bundle, "build", "--lock", str(lock), "--out", str(bundle), "--cache", cache)
    assert proc.returncode == 0, proc.stderr
    proc = _run(*bosh_bundle, "verify", str(bundle))
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # offline: the installer (this host's Python, see the docstring) in a namespace with no network
    install = [sys.executable, "-m", "installer", "install", "--bundle", str(bundle), "--root", str(root), "--yes"]
    proc = _run("unshare", "--net", "--mount", "--fork", f"--mount-proc={root}/proc", *install, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]

    debs = {a.name.split(":")[0]: a.version for a in read_lock(lock).by_kind("deb")}
    assert set(GUIDE.split()) <= debs.keys()
    query = _in_root(root, "dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Status}\n")
    installed = {}
    for line in query.stdout.splitlines():
        name, version, state = line.split(" ")
        installed[name] = (version, state)
    wrong = {n: installed.get(n) for n, v in debs.items() if installed.get(n) != (v, "installed")}
    assert not wrong, f"not installed at the locked version: {wrong}"
    audit = _in_root(root, "dpkg", "--audit")
    assert audit.returncode == 0 and not audit.stdout.strip(), audit.stdout + audit.stderr

    (root / "tmp/hello.c").write_text(PROGRAM)
    cc = _in_root(root, "sh", "-c", "gcc -o /tmp/hello /tmp/hello.c -lz -lcrypto && /tmp/hello")
    assert cc.returncode == 0 and cc.stdout.startswith("zlib "), cc.stdout + cc.stderr
    with capsys.disabled():
        print(
            f"\nbullseye: {len(debs)} debs installed offline, {cc.stdout.strip()}, {time.monotonic() - started:.0f} s"
        )
