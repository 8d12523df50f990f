"""End to end, today's toolchain: examples/create-env-aws.yml locked, built and verified here, then
``install.sh`` in a debootstrapped Debian 12 root with no network, and ``bosh-install deploy director``
there driving the real bosh CLI v7.9.13's ``create-env`` with the offline test CPI.

The spec is the example with the bosh-deployment source replaced by an operator's fork of the snapshot
(tests/support/createenv: our tarballs cannot have the real sha1s), the CLI by the one built here, an
ops file of our own pointing the test CPI at its state directory, and the deb closure cut to what
create-env needs to reach the CPI (the system ruby renders the CPI's job templates; the installer's
python3 runs the test CPI) to keep the test short.  Inside the root, under ``unshare --net``:
install (debs → CLIs: ``/usr/local/bin/bosh``, no Ruby build, no gems), then ``deploy director``,
which validates the manifest, the two compiled releases (for ubuntu-noble/1.103) and the CPI, the
stemcell, compiles and installs the CPI and stops at ``create_stemcell``, which the test CPI fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import E2E_CACHE
from tests.e2e.test_install import STATE, offline, offline_install
from tests.support import createenv
from tests.support.deployfixtures import FAKE_KEY, GUIDE_SITE
from tests.support.paths import REPO
from tests.support.realbosh import testcpi
from tests.support.realbosh.releases import build_all, cache_root
from tests.support.realbosh.tools import ensure_tools, skip_reason

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.network, pytest.mark.real_bosh]
CPI_STATE = "/root/cpi"


@pytest.fixture(scope="module")
def tarballs(tmp_path_factory):
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    tools = ensure_tools()
    root = tmp_path_factory.mktemp("create-env-set")
    cache = cache_root(root / "cache")
    return createenv.build_set(build_all(tools, cache), tools, root, cache)


def _spec(tmp_path: Path, minbase_tar: Path, deployment: createenv.Served, replica: createenv.Replica) -> Path:
    spec = yaml.safe_load((REPO / "examples" / "create-env-aws.yml").read_text())
    subprocess.run(["tar", "-C", str(tmp_path), "-xf", str(minbase_tar), "./var/lib/dpkg/status"], check=True)
    spec["debs"] = {"base": str(tmp_path / "var/lib/dpkg/status"), "packages": ["ruby"]}
    spec["binaries"][0]["sha256"] = createenv.Served(REPO / ".bosh-tools" / "bosh", "").sha256
    spec["director"]["bosh_deployment"] = {"url": deployment.url, "sha256": deployment.sha256}
    own = tmp_path / "test-cpi-state.yml"
    own.write_text(yaml.safe_dump([{"type": "replace", "path": "/cloud_provider/properties/test_cpi?",
                                    "value": {"state_dir": CPI_STATE}}]))  # fmt: skip
    spec["director"]["ops_files"].append("./test-cpi-state.yml")
    spec["mirrors"] = replica.mirrors
    path = tmp_path / "bundle.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_install_then_deploy_director_in_an_offline_root_reaches_the_cpi(tarballs, minbase_tar, tmp_path):
    from bundler.cli import main as bundle_main

    deployment = createenv.fork(tmp_path / "fork.tar.gz", tarballs)
    cache = E2E_CACHE / "bundle-cache"
    with createenv.serve([*tarballs.all(), deployment]) as replica:
        spec = _spec(tmp_path, minbase_tar, deployment, replica)
        lock, out = tmp_path / "bundle.lock", tmp_path / "bundle"
        assert bundle_main(["lock", "--spec", str(spec), "--lock", str(lock), "--cache", str(cache)]) == 0
        assert bundle_main(["build", "--lock", str(lock), "--out", str(out), "--cache", str(cache),
                            "--spec", str(spec), "--quiet"]) == 0  # fmt: skip
    assert bundle_main(["verify", str(out)]) == 0

    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-xf", str(minbase_tar)], check=True)
    shutil.copytree(out, root / "root/bundle")
    (root / "root/site.yml").write_text(GUIDE_SITE)
    (root / "root/bosh.pem").write_text(FAKE_KEY)
    os.chmod(root / "root/bosh.pem", 0o600)
    testcpi.set_answers(
        root / CPI_STATE.lstrip("/"), {"info": {"result": {"api_version": 2, "stemcell_formats": ["aws-light"]}}}
    )

    installed = offline_install(root, "--yes")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    steps = json.loads((root / STATE / "journal.json").read_text())["steps"]
    assert "ruby" not in steps and "gems" not in steps and steps["clis"]["state"] == "done"
    assert (root / "usr/local/bin/bosh").is_file()

    proc = offline(root, "bosh-install", "deploy", "director", "--site", "/root/site.yml", "--bundle",
                   "/root/bundle", "--skip-preflight", "--yes")  # fmt: skip
    calls = testcpi.calls(root / CPI_STATE.lstrip("/"))
    assert proc.returncode == 1 and calls, proc.stdout + proc.stderr
    log = (root / STATE / "logs/bosh-create-env.log").read_text()
    methods = [c["method"] for c in calls]
    assert methods[-1] == "create_stemcell" and set(methods[:-1]) == {"info"}, log
    for stage in ("Validating release 'bosh'", "Validating cpi release", "Validating deployment manifest",
                  "Validating stemcell", "Compiling package 'test_cpi/", "Rendering job templates"):  # fmt: skip
        assert stage in log, stage
    ops = yaml.safe_load((root / STATE / "director/offline-ops.yml").read_text())
    assert all(op["value"].startswith("file:///var/lib/bosh-offline/payload/") for op in ops)
