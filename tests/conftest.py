"""Shared fixtures.

``debian_archive``: this machine's apt sources (read from its apt configuration, never written in the
repository), checked to be reachable; tests using it are marked ``network`` and skip with the reason
when the archive cannot be reached.
``minbase_tar``: a tarball of ``debootstrap --variant=minbase bookworm`` made from that archive, kept
under ``$BOSH_OFFLINE_E2E_CACHE`` (default /var/cache/bosh-offline-e2e) between runs; the offline
target of the e2e install and the reference for the deb resolver's ``minimal`` base.
``trixie_minbase_tar``, ``bullseye_minbase_tar``: the same for those releases (the deb resolver's
agreement with apt run inside real targets, tests/agreement/test_debs_target.py).
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


def build_minbase(suite: str) -> Path:
    """``E2E_CACHE/SUITE-minbase.tar``: ``debootstrap --variant=minbase SUITE`` from this machine's
    Debian mirror, made once and kept (skips the test when it cannot be made)."""
    _need("debootstrap", "chroot", "unshare")
    root_tar = E2E_CACHE / f"{suite}-minbase.tar"
    if root_tar.is_file():
        return root_tar
    E2E_CACHE.mkdir(parents=True, exist_ok=True)
    build = E2E_CACHE / f"root-build-{suite}-{os.getpid()}"
    proc = subprocess.run(
        ["debootstrap", "--variant=minbase", suite, str(build), _mirror()], capture_output=True, text=True
    )
    if proc.returncode != 0:
        shutil.rmtree(build, ignore_errors=True)
        pytest.skip(f"debootstrap {suite} failed: {proc.stderr.strip().splitlines()[-1:]}")
    tmp = root_tar.with_suffix(".tmp")
    subprocess.run(["tar", "-C", str(build), "-cf", str(tmp), "."], check=True)
    os.replace(tmp, root_tar)
    shutil.rmtree(build)
    return root_tar


@pytest.fixture(scope="session")
def minbase_tar(debian_archive) -> Path:
    """A tarball of ``debootstrap --variant=minbase bookworm``, made once and kept."""
    return build_minbase("bookworm")


@pytest.fixture(scope="session")
def trixie_minbase_tar(debian_archive) -> Path:
    return build_minbase("trixie")


@pytest.fixture(scope="session")
def bullseye_minbase_tar(debian_archive) -> Path:
    return build_minbase("bullseye")
