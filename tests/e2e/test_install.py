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
  that tried the network would fail.  Ruby 3.1.2 builds from source, about 5 minutes on 2 cores.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

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


@pytest.fixture
def root(tmp_path, minbase_tar) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-xf", str(minbase_tar)], check=True)
    assert not (root / "usr/bin/python3").exists()  # the bundle must bring it
    return root


def in_root(root: Path, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
    return subprocess.run(["chroot", str(root), *argv], capture_output=True, text=True, env=env, check=check)


def offline_install(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
    argv = ["unshare", "--net", "--mount", "--fork", f"--mount-proc={root}/proc", "chroot", str(root)]
    return subprocess.run(
        [*argv, "sh", "/root/bundle/install.sh", *args], capture_output=True, text=True, env=env, timeout=3600
    )


def test_install_sh_installs_the_toolchain_in_an_offline_debian_12_root(bundle, root):
    lock = json.loads((bundle / "bundle.lock").read_text())
    shutil.copytree(bundle, root / "root/bundle")
    started = time.monotonic()
    proc = offline_install(root, "--yes")
    elapsed = time.monotonic() - started
    print(f"offline install took {elapsed:.0f} s")
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"

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

    journal = json.loads((root / "var/lib/bosh-offline/journal.json").read_text())
    assert {rec["state"] for rec in journal["steps"].values()} == {"done"}

    # a second run finds everything done
    again = offline_install(root, "--yes")
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stderr
