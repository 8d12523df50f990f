"""installer.deploy.boshinit: the kept copy of bosh-init's state follows what bosh-init did, a failure
names its stage; and what the real bosh-init answers offline, asked of the real bosh-init (marked
``real_bosh``): its argument and manifest checks, and ``destroy microbosh`` without a state file.

The full deploy flows, which need a director and a cloud, run against the stand-ins (test_driver.py);
tests/agreement/test_real_deploy.py runs ``bosh-install deploy microbosh`` with the real bosh-init.
"""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from installer.cli import main
from installer.deploy.boshinit import Deployed, failure_summary, keep_state, read_deployed, restore_state
from installer.journal import Journal
from installer.process import StepError
from installer.state import StateDir
from tests.support.deployfixtures import make_fixture
from tests.support.paths import STANDINS
from tests.support.realbosh import deploy as realdeploy

# What the real bosh-init 0.0.81 printed when the test CPI refused create_stemcell (tests/agreement).
REAL_FAILURE = """\
Starting registry... Finished (00:00:00)
Uploading stemcell 'bosh-aws-xen-hvm-ubuntu-trusty-go_agent/3147'... Failed (00:00:00)
Stopping registry... Finished (00:00:00)
Cleaning up rendered CPI jobs... Finished (00:00:00)

Command 'deploy' failed:
  creating stemcell (bosh-aws-xen-hvm-ubuntu-trusty-go_agent 3147):
    CPI 'create_stemcell' method responded with error: CmdError{"type":"Bosh::Clouds::CloudError"}
"""
REAL_REFUSAL = """\
  Validating deployment manifest... Failed (00:00:00)
Failed validating (00:00:00)

Command 'deploy' failed:
  Validating deployment manifest:
    name must be provided
    jobs[0].persistent_disk must be >= 0
"""

REAL_DELETE_FAILURE = """\
Started deleting deployment
Failed deleting deployment (00:00:00)

Stopping registry... Finished (00:00:00)

Command 'delete' failed:
  Deleting deployment:
    Checking existance of VM 'i-0deployed':
      CPI 'has_vm' method responded with error: CmdError{}
"""


def test_a_failure_names_bosh_init_s_stage_and_error():
    assert failure_summary("deploy", REAL_FAILURE.splitlines()) == (
        "bosh-init deploy failed at \"Uploading stemcell 'bosh-aws-xen-hvm-ubuntu-trusty-go_agent/3147'\": "
        "creating stemcell (bosh-aws-xen-hvm-ubuntu-trusty-go_agent 3147): CPI 'create_stemcell' method "
        'responded with error: CmdError{"type":"Bosh::Clouds::CloudError"}'
    )
    assert failure_summary("deploy", REAL_REFUSAL.splitlines()) == (
        'bosh-init deploy failed at "Validating deployment manifest": Validating deployment manifest: '
        "name must be provided; jobs[0].persistent_disk must be >= 0"
    )
    assert failure_summary("delete", REAL_DELETE_FAILURE.splitlines()) == (
        'bosh-init delete failed at "deleting deployment": Deleting deployment: Checking existance of VM '
        "'i-0deployed': CPI 'has_vm' method responded with error: CmdError{}"
    )
    assert failure_summary("deploy", ["sh: bosh-init: not found"]) == ""


def test_the_kept_copy_follows_the_state_file(tmp_path):
    state = StateDir(tmp_path)
    beside, kept, prev = state.bosh_init_state(), state.saved_state(), tmp_path / "microbosh-state.json.prev"
    beside.parent.mkdir(parents=True)
    beside.write_text('{"n": 1}')
    keep_state(state)
    assert kept.read_text() == '{"n": 1}' and not prev.exists()
    beside.write_text('{"n": 2}')
    keep_state(state)
    assert (kept.read_text(), prev.read_text()) == ('{"n": 2}', '{"n": 1}')
    beside.unlink()  # what a successful `bosh-init delete` does
    keep_state(state)
    assert not kept.exists() and prev.read_text() == '{"n": 2}'
    restore_state(state)  # nothing to restore: the deleted deployment does not come back
    assert not beside.exists()


def test_what_a_state_file_records(tmp_path):
    path = tmp_path / "microbosh-state.json"
    assert read_deployed(path) is None
    path.write_text(json.dumps({"current_vm_cid": "", "disks": None, "stemcells": None}))
    assert read_deployed(path).nothing
    path.write_text(json.dumps({"current_vm_cid": "i-1", "disks": [{"cid": "vol-1"}], "stemcells": [{"cid": "ami-1"}]}))
    assert read_deployed(path) == Deployed("i-1", ("vol-1",), ("ami-1",))
    assert read_deployed(path).describe() == "the VM i-1, the disk vol-1 and the stemcell ami-1"
    assert Deployed(disks=("vol-1", "vol-2")).describe() == "the disks vol-1, vol-2"
    path.write_text("{not json")
    with pytest.raises(StepError, match="not a bosh-init state file"):
        read_deployed(path)


# ---- the real bosh-init, where it can answer offline


@pytest.mark.real_bosh
def test_bosh_init_checks_arguments_and_manifest(real_tools, microbosh_manifest, tmp_path):
    """Moved here from test_driver.py, where it asked the stand-in (which now says the same)."""
    assert realdeploy.run([real_tools.bosh_init, "deploy"], tmp_path / "args").returncode == 1  # argument shape
    assert "0.0.81" in realdeploy.run([real_tools.bosh_init, "version"], tmp_path / "version").stdout
    doc = copy.deepcopy(microbosh_manifest)
    release = tmp_path / "bosh-233.tgz"
    shutil.copy(doc["releases"][0]["url"].removeprefix("file://"), release)
    doc["releases"][0]["url"] = f"file://{release}"
    release.unlink()
    r = realdeploy.bosh_init(real_tools, "deploy", doc, tmp_path / "absent")
    assert r.returncode == 1 and f"Extracting release '{release}'" in r.stderr and "No such file" in r.stderr
    doc = copy.deepcopy(microbosh_manifest)
    doc["networks"][0]["subnets"][0]["gateway"] = "10.9.0.1"
    r = realdeploy.bosh_init(real_tools, "deploy", doc, tmp_path / "gateway")
    assert (
        r.returncode == 1 and "subnet gateway '10.9.0.1' must be within the specified range '10.0.0.0/24'" in r.stderr
    )


@pytest.fixture(params=["stand-in", pytest.param("real", marks=pytest.mark.real_bosh)])
def bosh_init(request, tmp_path):
    """The bosh-init the driver runs: the stand-in, or the real one (offline: under unshare --net)."""
    if request.param == "stand-in":
        return str(STANDINS / "bosh-init")
    real = request.getfixturevalue("real_tools").bosh_init
    wrapper = tmp_path / "bin" / "bosh-init"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec unshare --net "{real}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def test_destroy_without_a_state_file_says_nothing_was_deleted(bosh_init, tmp_path, monkeypatch, capsys):
    """Disagreement 5 of issue 12: bosh-init says "No deployment state file found." and exits 0."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the real bosh-init keeps ~/.bosh_init
    monkeypatch.setenv("BOSH_STANDIN_STATE", str(tmp_path / "aws"))
    fx = make_fixture(tmp_path / "site")
    state = tmp_path / "state"
    args = ["--site", str(fx.site_path), "--lock", str(fx.lock_path), "--payload", str(fx.payload),
            "--state-dir", str(state), "--bosh-init", bosh_init, "--yes"]  # fmt: skip
    assert main(["destroy", "microbosh", *args]) == 0
    out = capsys.readouterr().out
    assert "  | No deployment state file found." in out  # bosh-init's own words
    assert "nothing deleted: MicroBOSH is not deployed from this state directory" in out
    assert "deleted MicroBOSH" not in out and "VM" not in out.split("nothing deleted")[1]
    assert not Journal.read(state).steps  # nothing happened: nothing journaled, nothing forgotten
    assert not (state / "microbosh-state.json").exists() and not (state / "microbosh-state.json.prev").exists()
