"""``bosh-install deploy|destroy microbosh`` driving the REAL bosh-init 0.0.81, offline, with the test CPI.

The bundle is the deploy fixture's (tests/support/deployfixtures: the guide's site values, a lock
and its payload) with the real tarballs swapped in: the ``bosh`` release and the test CPI (as
``bosh-aws-cpi`` 36) made by the real ``bosh create-release``, and a real-format light stemcell.  The
test CPI is the build whose state directory is relative (testcpi.release_beside_bosh_init): it runs
in bosh-init's working directory, the driver's ``STATE/deploy``, and logs its calls there.

``bosh-install`` runs as a subprocess under ``unshare --net`` (only the loopback, which bosh-init's
registry needs), with the real bosh-init first on PATH (the driver's default ``--bosh-init``), so
neither it nor the CPI can reach a network.  What is proven: the project's rendered manifest goes
through bosh-init's validation, the CPI's compilation and template rendering to exactly
``create_stemcell``, where the test CPI stops it, and the command says so; the journal and the kept
state tell the truth afterwards; ``destroy`` reports what bosh-init deleted and its kept copy follows
the state file bosh-init deleted, so that the next deploy does not restore a deleted VM
(disagreement 3 of issue 12; disagreement 5, destroy without a state file, is asked of the real
bosh-init and of the stand-in in tests/installer/deploy/test_boshinit.py).
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from installer.journal import Journal
from installer.manifests.secrets import VarsStore
from installer.site.model import load_site
from tests.support.deployfixtures import make_fixture
from tests.support.paths import REPO
from tests.support.realbosh import testcpi
from tests.support.realbosh.releases import cache_root
from tests.support.realbosh.tools import run_tool, tool_env

pytestmark = pytest.mark.real_bosh

STAGE = "Uploading stemcell 'bosh-aws-xen-hvm-ubuntu-trusty-go_agent/3147'"


@pytest.fixture(scope="module")
def cwd_cpi(real_tools, tmp_path_factory):
    return testcpi.release_beside_bosh_init(real_tools, cache_root(tmp_path_factory.mktemp("cwd-cpi")))


@pytest.fixture
def site(real_releases, light_stemcell, cwd_cpi, tmp_path):
    files = {"bosh": real_releases["bosh-final-sha1"].path, "cpi": cwd_cpi.path, "light": light_stemcell.path}
    fx = make_fixture(tmp_path / "site", files=files)
    fx.state = tmp_path / "state"
    return fx


def bosh_install(real_tools, fx, *args: str):
    """``bosh-install ARGS --site --lock --payload --state-dir`` offline, the real bosh-init on PATH (the
    fixture keeps its vars store beside the lock, which --bundle would refuse: secrets inside a bundle)."""
    home = fx.root.parent / "home"
    env = tool_env(home, PATH=f"{real_tools.bosh_init.parent}:{os.environ['PATH']}", PYTHONPATH=str(REPO))
    argv = [sys.executable, "-m", "installer", *args, "--site", fx.site_path, "--lock", fx.lock_path,
            "--payload", fx.payload, "--state-dir", fx.state]  # fmt: skip
    return run_tool(argv, home=home, cwd=REPO, env=env, timeout=180)


def calls(fx) -> list[str]:
    return [c["method"] for c in testcpi.calls(fx.state / "deploy" / testcpi.CWD_STATE_DIR)]


def saved(fx) -> dict:
    return json.loads((fx.state / "microbosh-state.json").read_text())


def _secrets(fx) -> list[str]:
    site = load_site(fx.site_path)
    return list(VarsStore(site.vars_store).secrets_for("microbosh").values()) + [site.aws.secret_access_key]


def test_deploy_microbosh_runs_the_real_bosh_init_to_create_stemcell_exactly(real_tools, site):
    run = bosh_install(real_tools, site, "deploy", "microbosh", "--skip-preflight")
    assert run.returncode == 1, run.stdout + run.stderr
    assert calls(site) == ["create_stemcell"]  # the first real CPI call, and the only one
    call = testcpi.calls(site.state / "deploy" / testcpi.CWD_STATE_DIR)[0]
    assert call["cpi_config"]["cloud"]["properties"]["aws"]["region"] == "us-east-1"  # rendered by bosh-init
    assert call["arguments"][1]["ami"] == {"us-east-1": "ami-e62f158c"}
    for line in ("Validating deployment manifest... Finished", "Compiling package 'test_cpi/",
                 "Rendering job templates... Finished", f"{STAGE}... Failed"):  # fmt: skip
        assert f"  | {line}" in run.stdout or f"  |   {line}" in run.stdout, (line, run.stdout)
    assert f'step microbosh.bosh-init failed: bosh-init deploy failed at "{STAGE}": creating stemcell' in run.stderr
    assert testcpi.STEMCELL_ERROR in run.stderr and "Traceback" not in run.stderr

    journal = Journal.read(site.state)  # truthful: the files were checked, bosh-init failed, nothing after it
    assert journal.steps["microbosh.verify"].state == "done"
    assert journal.steps["microbosh.bosh-init"].state == "failed"
    assert STAGE in journal.steps["microbosh.bosh-init"].error
    assert sorted(n for n in journal.steps if n.startswith("microbosh.")) == ["microbosh.bosh-init", "microbosh.verify"]
    kept = saved(site)  # the kept copy is bosh-init's own state: an installation, nothing created
    assert kept == json.loads((site.state / "deploy" / "microbosh-state.json").read_text())
    assert kept["installation_id"] and kept["current_vm_cid"] == "" and not kept["disks"]
    logs = [p.read_text(errors="replace") for p in (site.state / "logs").iterdir()]
    assert "mbus:<redacted>@" in (site.state / "logs" / "bosh-init.log").read_text()
    assert not [s for s in _secrets(site) for text in logs + [run.stdout, run.stderr] if s in text]

    # Its state file lost: restored from the copy, the same installation goes on, to the same stage.
    (site.state / "deploy" / "microbosh-state.json").unlink()
    again = bosh_install(real_tools, site, "deploy", "microbosh", "--skip-preflight")
    assert again.returncode == 1 and STAGE in again.stderr, again.stdout + again.stderr
    assert calls(site) == ["create_stemcell", "create_stemcell"]
    assert saved(site)["installation_id"] == kept["installation_id"]
    assert Journal.read(site.state).steps["microbosh.verify"] == journal.steps["microbosh.verify"]  # not run again


def test_destroy_after_a_failed_deploy_says_nothing_was_deployed(real_tools, site):
    assert bosh_install(real_tools, site, "deploy", "microbosh", "--skip-preflight").returncode == 1
    kept = saved(site)
    run = bosh_install(real_tools, site, "destroy", "microbosh", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "nothing was deployed: bosh-init's state recorded no VM, disk or stemcell" in run.stdout
    assert "deleted MicroBOSH" not in run.stdout
    assert calls(site) == ["create_stemcell"]  # bosh-init deleted nothing in the cloud
    assert not (site.state / "deploy" / "microbosh-state.json").exists()  # bosh-init deleted its state...
    assert not (site.state / "microbosh-state.json").exists()  # ...and the kept copy followed
    assert json.loads((site.state / "microbosh-state.json.prev").read_text()) == kept
    assert not [n for n in Journal.read(site.state).steps if n.startswith("microbosh.")]


def test_destroy_deletes_what_bosh_init_recorded_and_the_next_deploy_starts_afresh(real_tools, site):
    """Disagreement 3: a MicroBOSH deployed to the end (its state planted: the real bosh-init cannot get
    there offline) is destroyed by the real bosh-init, which deletes its state file; the kept copy
    must go too, or the next deploy restores it and bosh-init asks the CPI about the deleted VM."""
    deployed = testcpi.deployed_state()
    for path in (site.state / "deploy" / "microbosh-state.json", site.state / "microbosh-state.json"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(deployed))
    cpi_dir = site.state / "deploy" / testcpi.CWD_STATE_DIR
    testcpi.set_answers(cpi_dir, testcpi.DELETE_ANSWERS)
    run = bosh_install(real_tools, site, "destroy", "microbosh", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert calls(site) == ["has_vm", "delete_vm", "delete_disk", "delete_stemcell"]
    assert (
        "deleted MicroBOSH: the VM i-0deployed, the disk vol-0deployed and the stemcell ami-0deployed light"
        in run.stdout
    )
    assert not (site.state / "microbosh-state.json").exists()

    (cpi_dir / "config.json").unlink()  # the test CPI refuses create_stemcell again
    again = bosh_install(real_tools, site, "deploy", "microbosh", "--skip-preflight")
    assert again.returncode == 1 and STAGE in again.stderr, again.stdout + again.stderr
    assert calls(site)[4:] == ["create_stemcell"]  # no has_vm on the deleted VM: a new installation
    assert saved(site)["installation_id"] != deployed["installation_id"]
    assert saved(site)["current_vm_cid"] == ""
