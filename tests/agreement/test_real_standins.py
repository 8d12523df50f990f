"""The stand-in bosh-init (tests/support/standins/bosh-init) against the real bosh-init 0.0.81, wherever
the stand-in claims to imitate it: help and exit codes, ``version``, the state file beside the
manifest, ``delete`` with and without a state file, and the manifest rules it lists in its docstring
(the rows of test_real_bosh_init, whose real outcome that test checks against the real tool).

Each test runs the same invocation through both and asserts they agree.  Where the stand-in does
not, the test is ``xfail(strict=True)`` with the difference, for the stand-in to be fixed.
"""

from __future__ import annotations

import copy
import json

import pytest

from tests.agreement.test_real_bosh_init import ROWS
from tests.support.realbosh import deploy

pytestmark = pytest.mark.real_bosh


def _xfail(reason: str):
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


def premise(condition: bool, what: str) -> None:
    """What the real bosh-init does (pytest.fail, so that an xfail test cannot hide it)."""
    if not condition:
        pytest.fail(f"the real bosh-init: {what}")


def _both(real_tools, tmp_path, *args):
    real = deploy.run([real_tools.bosh_init, *args], tmp_path / "real")
    standin = deploy.standin(list(args), tmp_path / "standin")
    return real, standin


def test_a_bad_command_exits_1_in_both(real_tools, tmp_path):
    real, standin = _both(real_tools, tmp_path, "frobnicate")
    assert real.returncode == standin.returncode == 1
    assert "Command 'frobnicate' unknown. See 'bosh-init help'" in real.stderr


@_xfail("the stand-in prints its usage without naming the unknown command")
def test_a_bad_command_is_named_by_both(real_tools, tmp_path):
    real, standin = _both(real_tools, tmp_path, "frobnicate")
    premise("Command 'frobnicate' unknown" in real.stderr, real.stderr)
    assert "Command 'frobnicate' unknown" in standin.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((), id="no-arguments", marks=_xfail("the stand-in exits 1 with its usage on stderr")),
        pytest.param(("help",), id="help", marks=_xfail("the stand-in has no help command: usage, exit 1")),
        pytest.param(("--help",), id="--help", marks=_xfail("the stand-in has no --help: usage, exit 1")),
    ],
)
def test_help_exits_0_listing_the_commands(real_tools, tmp_path, args):
    real, standin = _both(real_tools, tmp_path, *args)
    premise(real.returncode == 0 and "deploy     Create or update a deployment" in real.stdout, real.output)
    assert standin.returncode == 0 and "deploy" in standin.stdout and "delete" in standin.stdout


@pytest.mark.parametrize("args", [("deploy",), ("delete",), ("deploy", "a.yml", "b.yml")], ids=" ".join)
def test_a_command_without_its_one_argument_exits_1_in_both(real_tools, tmp_path, args):
    real, standin = _both(real_tools, tmp_path, *args)
    assert real.returncode == standin.returncode == 1, (real.stderr, standin.stderr)
    assert f"Invalid usage - {args[0]} command requires exactly 1 argument" in real.stderr


@pytest.mark.parametrize("flag", ["version", "-v", "--version"])
def test_version_names_0_0_81_and_its_commit_in_both(real_tools, tmp_path, flag):
    real, standin = _both(real_tools, tmp_path, flag)
    assert real.returncode == standin.returncode == 0
    assert real.stdout.startswith("version 0.0.81-775439c-") and standin.stdout.startswith("version 0.0.81-775439c-")


@_xfail("the stand-in's build time is 2015-12-09T00:36:03Z, the real build's label 2015-11-10T22:46:57Z")
def test_version_is_the_same_line_in_both(real_tools, tmp_path):
    real, standin = _both(real_tools, tmp_path, "version")
    premise(real.stdout == "version 0.0.81-775439c-2015-11-10T22:46:57Z\n", real.stdout)
    assert real.stdout == standin.stdout


def test_deploy_of_a_missing_manifest_exits_1_in_both(real_tools, tmp_path):
    real, standin = _both(real_tools, tmp_path, "deploy", str(tmp_path / "absent.yml"))
    assert real.returncode == standin.returncode == 1
    assert f"Deployment manifest does not exist at '{tmp_path / 'absent.yml'}'" in real.stderr


@_xfail("the stand-in says 'Validating deployment manifest: Reading file ...: no such file'")
def test_deploy_of_a_missing_manifest_says_so_in_both(real_tools, tmp_path):
    real, standin = _both(real_tools, tmp_path, "deploy", str(tmp_path / "absent.yml"))
    premise("Deployment manifest does not exist at" in real.stderr, real.stderr)
    assert "Deployment manifest does not exist at" in standin.stderr


def test_the_state_file_is_written_beside_the_manifest_by_both(real_tools, microbosh_manifest, tmp_path):
    """A deploy that fails at the CPI (the test CPI refuses create_stemcell; the stand-in injects a
    create_vm failure) leaves ``microbosh-state.json`` beside ``microbosh.yml`` with both ids."""
    real = deploy.bosh_init(real_tools, "deploy", microbosh_manifest, tmp_path / "real")
    standin = deploy.standin_deploy(microbosh_manifest, tmp_path / "standin")
    assert real.returncode == standin.returncode == 1
    for outcome in (real, standin):
        state = json.loads(outcome.state_file.read_text())
        assert state["director_id"] and state["installation_id"], state
        assert f"Deployment state: '{outcome.state_file}'" in outcome.stdout


@_xfail("the stand-in's state file has 3 keys and the manifest's sha1; the real one 10, current_manifest_sha1 ''")
def test_the_state_file_has_the_same_keys_in_both(real_tools, microbosh_manifest, tmp_path):
    real = deploy.bosh_init(real_tools, "deploy", microbosh_manifest, tmp_path / "real")
    standin = deploy.standin_deploy(microbosh_manifest, tmp_path / "standin")
    real_state = json.loads(real.state_file.read_text())
    premise(len(real_state) == 10 and real_state["current_manifest_sha1"] == "", real_state)
    standin_state = json.loads(standin.state_file.read_text())
    assert sorted(real_state) == sorted(standin_state)
    assert standin_state["current_manifest_sha1"] == ""


@_xfail("the stand-in writes its state file only after the manifest passed its rules")
def test_a_refused_manifest_still_gets_a_state_file_in_both(real_tools, microbosh_manifest, tmp_path):
    doc = copy.deepcopy(microbosh_manifest)
    del doc["name"]
    real = deploy.bosh_init(real_tools, "deploy", doc, tmp_path / "real")
    standin = deploy.standin_deploy(doc, tmp_path / "standin")
    premise(real.refused and real.state_file.exists(), real.output)
    assert standin.returncode == 1
    assert standin.state_file.exists()


@_xfail("the stand-in fails (exit 1: 'Deployment state ... does not exist: nothing to delete')")
def test_delete_without_a_state_file_exits_0_in_both(real_tools, microbosh_manifest, tmp_path):
    real = deploy.bosh_init(real_tools, "delete", microbosh_manifest, tmp_path / "real")
    standin = deploy.standin(
        ["delete", deploy.write_manifest(microbosh_manifest, tmp_path / "standin")], tmp_path / "standin"
    )
    premise(real.returncode == 0 and "No deployment state file found." in real.stdout, real.output)
    assert standin.returncode == 0 and "No deployment state file found." in standin.stdout


@_xfail("the stand-in keeps the state file, emptied; the real bosh-init deletes it")
def test_delete_after_a_failed_deploy_removes_the_state_file_in_both(real_tools, microbosh_manifest, tmp_path):
    real_dir, standin_dir = tmp_path / "real", tmp_path / "standin"
    deploy.bosh_init(real_tools, "deploy", microbosh_manifest, real_dir)
    deploy.standin_deploy(microbosh_manifest, standin_dir)
    real = deploy.bosh_init(real_tools, "delete", microbosh_manifest, real_dir)
    standin = deploy.standin(["delete", standin_dir / deploy.MANIFEST_NAME], standin_dir, fail="")
    premise(real.returncode == 0 and not real.state_file.exists(), real.output)
    assert standin.returncode == 0, standin.output
    assert not standin.state_file.exists()


# The manifest rules: the stand-in's verdict against the real one each row of test_real_bosh_init records.
STANDIN_DIFFERS = {
    "name-blank": "accepts a blank name",
    "cpi-job-name-missing": "accepts a cloud_provider.template without a name",
    "cpi-job-not-in-release": "does not look for the CPI job in the CPI release",
    "cpi-mbus-missing": "refuses a missing cloud_provider.mbus (the real one reaches create_stemcell)",
    "ssh-key-absent": "refuses a missing ssh_tunnel.private_key file (the real one reads it only for the tunnel)",
    "network-name-missing": "accepts a network without a name",
    "range-host-bits": "refuses 10.0.0.5/24 (Go's ParseCIDR takes it as 10.0.0.0/24)",
    "disk-pool-name-missing": "accepts a disk pool without a name",
    "disk-pool-unknown": "accepts a persistent_disk_pool naming no disk pool",
    "job-name-missing": "accepts a job without a name",
    "instances-missing": "refuses a missing instances (the real one reads 0)",
    "persistent-disk-negative": "accepts a negative persistent_disk",
    "job-networks-empty": "accepts a job with no networks",
    "lifecycle-errand": "accepts a lifecycle other than 'service'",
    "template-name-twice": "accepts a template listed twice",
    "template-name-missing": "accepts a template without a name",
    "template-job-not-in-release": "does not look for the template's job in its release",
}
STANDIN_ROWS = [
    pytest.param(
        p.values[0],
        p.values[1] is None,
        id=p.id,
        marks=[_xfail(STANDIN_DIFFERS[p.id])] if p.id in STANDIN_DIFFERS else [],
    )
    for p in ROWS
]


@pytest.mark.parametrize("mutate, real_accepts", STANDIN_ROWS)
def test_the_standin_refuses_what_bosh_init_refuses(microbosh_manifest, tmp_path, mutate, real_accepts):
    doc = copy.deepcopy(microbosh_manifest)
    mutate(doc)
    standin = deploy.standin_deploy(doc, tmp_path)
    accepted = "stand-in: injected failure" in standin.stderr  # it got past its rules to the "CPI"
    assert accepted == real_accepts, standin.stderr
