"""Shared fixtures.

``debian_archive``: this machine's apt sources (read from its apt configuration, never written in the
repository), checked to be reachable; tests using it are marked ``network`` and skip with the reason
when the archive cannot be reached.
``minbase_tar``: a tarball of ``debootstrap --variant=minbase bookworm`` made from that archive, kept
under ``$BOSH_OFFLINE_E2E_CACHE`` (default /var/cache/bosh-offline-e2e) between runs; the offline
target of the e2e install and the reference for the deb resolver's ``minimal`` base.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from bundler.apt.system import read_system_sources
from bundler.core.errors import BundleError

E2E_CACHE = Path(os.environ.get("BOSH_OFFLINE_E2E_CACHE", "/var/cache/bosh-offline-e2e"))


@pytest.fixture(scope="session")
def debian_archive():
    """The list of ``AptSource`` of this machine's apt configuration, after one reachability check."""
    try:
        sources = read_system_sources()
    except BundleError as exc:
        pytest.skip(f"no usable apt configuration on this machine: {exc}")
    first = sources[0]
    url = f"{first.url}/dists/{first.suites[0]}/InRelease"
    try:
        resp = requests.head(url, timeout=10, allow_redirects=True)
    except requests.RequestException as exc:
        pytest.skip(f"the apt archive of this machine is unreachable ({type(exc).__name__})")
    if resp.status_code >= 400:
        pytest.skip(f"the apt archive of this machine answers HTTP {resp.status_code} for {first.suites[0]}/InRelease")
    return sources


def _need(*commands: str) -> None:
    missing = [c for c in commands if shutil.which(c) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    if os.geteuid() != 0:
        pytest.skip("needs root (debootstrap, chroot, unshare)")


def _mirror() -> str:
    for source in read_system_sources():
        if "bookworm" in source.suites:
            return source.url
    pytest.skip("this machine's apt configuration has no bookworm source")


@pytest.fixture(scope="session")
def minbase_tar(debian_archive) -> Path:
    """A tarball of ``debootstrap --variant=minbase bookworm``, made once and kept."""
    _need("debootstrap", "chroot", "unshare")
    root_tar = E2E_CACHE / "bookworm-minbase.tar"
    if root_tar.is_file():
        return root_tar
    E2E_CACHE.mkdir(parents=True, exist_ok=True)
    build = E2E_CACHE / f"root-build-{os.getpid()}"
    proc = subprocess.run(
        ["debootstrap", "--variant=minbase", "bookworm", str(build), _mirror()], capture_output=True, text=True
    )
    if proc.returncode != 0:
        shutil.rmtree(build, ignore_errors=True)
        pytest.skip(f"debootstrap failed: {proc.stderr.strip().splitlines()[-1:]}")
    tmp = root_tar.with_suffix(".tmp")
    subprocess.run(["tar", "-C", str(build), "-cf", str(tmp), "."], check=True)
    os.replace(tmp, root_tar)
    shutil.rmtree(build)
    return root_tar
