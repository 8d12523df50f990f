"""The stand-in bosh-init (tests/support/standins/bosh-init) against the real bosh-init 0.0.81, wherever
the stand-in claims to imitate it: help and exit codes, ``version``, the state file beside the
manifest (written before validation, kept by a failed deploy or delete, removed by a successful
delete), ``delete`` with and without a state file, and the manifest rules it lists in its docstring
(the rows of test_real_bosh_init, whose real outcome that test checks against the real tool: the
stand-in refuses what bosh-init refuses, with bosh-init's message, and accepts what it accepts).

Each test runs the same invocation through both and asserts they agree.
"""

from __future__ import annotations

import copy
import json

import pytest

from tests.agreement.test_real_bosh_init import ROWS
from tests.support.realbosh import deploy, testcpi

pytestmark = pytest.mark.real_bosh


def premise(condition: bool, what: str) -> None:
    """What the real bosh-init does (pytest.fail: a real tool that changed is not a stand-in that drifted)."""
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


def test_a_bad_command_is_named_by_both(real_tools, tmp_path):
    real, standin = _both(real_tools, tmp_path, "frobnicate")
    premise("Command 'frobnicate' unknown" in real.stderr, real.stderr)
    assert "Command 'frobnicate' unknown" in standin.stderr
    assert (standin.stdout, standin.stderr) == (real.stdout, real.stderr)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((), id="no-arguments"),
        pytest.param(("help",), id="help"),
        pytest.param(("--help",), id="--help"),
    ],
)
def test_help_exits_0_listing_the_commands(real_tools, tmp_path, args):
    real, standin = _both(real_tools, tmp_path, *args)
    premise(real.returncode == 0 and "deploy     Create or update a deployment" in real.stdout, real.output)
    assert standin.returncode == 0 and "deploy" in standin.stdout and "delete" in standin.stdout
    assert standin.stdout == real.stdout


@pytest.mark.parametrize("args", [("deploy",), ("delete",), ("deploy", "a.yml", "b.yml")], ids=" ".join)
def test_a_command_without_its_one_argument_exits_1_in_both(real_tools, tmp_path, args):
    real, standin = _both(real_tools, tmp_path, *args)
    assert real.returncode == standin.returncode == 1, (real.stderr, standin.stderr)
    assert f"Invalid usage - {args[0]} command requires exactly 1 argument" in real.stderr
    assert (standin.stdout, standin.stderr) == (real.stdout, real.stderr)  # the command's help on stdout


@pytest.mark.parametrize("flag", ["version", "-v", "--version"])
def test_version_names_0_0_81_and_its_commit_in_both(real_tools, tmp_path, flag):
    real, standin = _both(real_tools, tmp_path, flag)
    assert real.returncode == standin.returncode == 0
    assert real.stdout.startswith("version 0.0.81-775439c-") and standin.stdout.startswith("version 0.0.81-775439c-")


def test_version_is_the_same_line_in_both(real_tools, tmp_path):
    real, standin = _both(real_tools, tmp_path, "version")
    premise(real.stdout == "version 0.0.81-775439c-2015-11-10T22:46:57Z\n", real.stdout)
    assert real.stdout == standin.stdout


def test_deploy_of_a_missing_manifest_exits_1_in_both(real_tools, tmp_path):
    real, standin = _both(real_tools, tmp_path, "deploy", str(tmp_path / "absent.yml"))
    assert real.returncode == standin.returncode == 1
    assert f"Deployment manifest does not exist at '{tmp_path / 'absent.yml'}'" in real.stderr


def test_deploy_of_a_missing_manifest_says_so_in_both(real_tools, tmp_path):
    real, standin = _both(real_tools, tmp_path, "deploy", str(tmp_path / "absent.yml"))
    premise("Deployment manifest does not exist at" in real.stderr, real.stderr)
    assert "Deployment manifest does not exist at" in standin.stderr
    assert (standin.stdout, standin.stderr) == (real.stdout, real.stderr)


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


def test_the_state_file_has_the_same_keys_in_both(real_tools, microbosh_manifest, tmp_path):
    real = deploy.bosh_init(real_tools, "deploy", microbosh_manifest, tmp_path / "real")
    standin = deploy.standin_deploy(microbosh_manifest, tmp_path / "standin")
    real_state = json.loads(real.state_file.read_text())
    premise(len(real_state) == 10 and real_state["current_manifest_sha1"] == "", real_state)
    standin_state = json.loads(standin.state_file.read_text())
    assert sorted(real_state) == sorted(standin_state)
    assert standin_state["current_manifest_sha1"] == ""


def test_a_refused_manifest_still_gets_a_state_file_in_both(real_tools, microbosh_manifest, tmp_path):
    doc = copy.deepcopy(microbosh_manifest)
    del doc["name"]
    real = deploy.bosh_init(real_tools, "deploy", doc, tmp_path / "real")
    standin = deploy.standin_deploy(doc, tmp_path / "standin")
    premise(real.refused and real.state_file.exists(), real.output)
    assert standin.returncode == 1
    assert standin.state_file.exists()


def test_delete_without_a_state_file_exits_0_in_both(real_tools, microbosh_manifest, tmp_path):
    real = deploy.bosh_init(real_tools, "delete", microbosh_manifest, tmp_path / "real")
    standin = deploy.standin(
        ["delete", deploy.write_manifest(microbosh_manifest, tmp_path / "standin")], tmp_path / "standin"
    )
    premise(real.returncode == 0 and "No deployment state file found." in real.stdout, real.output)
    assert standin.returncode == 0 and "No deployment state file found." in standin.stdout


def test_delete_after_a_failed_deploy_removes_the_state_file_in_both(real_tools, microbosh_manifest, tmp_path):
    real_dir, standin_dir = tmp_path / "real", tmp_path / "standin"
    deploy.bosh_init(real_tools, "deploy", microbosh_manifest, real_dir)
    deploy.standin_deploy(microbosh_manifest, standin_dir)
    real = deploy.bosh_init(real_tools, "delete", microbosh_manifest, real_dir)
    standin = deploy.standin(["delete", standin_dir / deploy.MANIFEST_NAME], standin_dir, fail="")
    premise(real.returncode == 0 and not real.state_file.exists(), real.output)
    assert standin.returncode == 0, standin.output
    assert not standin.state_file.exists()


def _deployed(microbosh_manifest, workdir):
    """``workdir`` as a deploy that went to the end leaves it: the manifest, a state file with a VM."""
    path = deploy.write_manifest(microbosh_manifest, workdir)
    state = workdir / deploy.MANIFEST_NAME.replace(".yml", "-state.json")
    state.write_text(json.dumps(testcpi.deployed_state()))
    return path


def test_delete_deletes_the_vm_disk_and_stemcell_then_the_state_file_in_both(real_tools, microbosh_manifest, tmp_path):
    real_dir, standin_dir = tmp_path / "real", tmp_path / "standin"
    testcpi.set_answers(real_dir / "cpi", testcpi.DELETE_ANSWERS)
    real = deploy.run([real_tools.bosh_init, "delete", _deployed(microbosh_manifest, real_dir)], real_dir)
    standin = deploy.standin(["delete", _deployed(microbosh_manifest, standin_dir)], standin_dir, fail="")
    methods = [c["method"] for c in real.calls]
    premise(real.returncode == 0 and not real.state_file.exists(), real.output)
    premise(methods == ["has_vm", "delete_vm", "delete_disk", "delete_stemcell"], methods)
    assert standin.returncode == 0 and not standin.state_file.exists(), standin.output
    for line in (
        "Deleting VM 'i-0deployed'",
        "Deleting disk 'vol-0deployed'",
        "Deleting stemcell 'ami-0deployed light'",
    ):
        premise(line in real.stdout, real.stdout)
        assert line in standin.stdout


def test_a_failed_delete_keeps_the_state_file_in_both(real_tools, microbosh_manifest, tmp_path):
    """The test CPI, told nothing, fails has_vm; the stand-in is told to fail its delete."""
    real_dir, standin_dir = tmp_path / "real", tmp_path / "standin"
    real = deploy.run([real_tools.bosh_init, "delete", _deployed(microbosh_manifest, real_dir)], real_dir)
    standin = deploy.standin(
        ["delete", _deployed(microbosh_manifest, standin_dir)], standin_dir, fail="bosh-init-delete"
    )
    premise(real.returncode == 1 and "Deleting deployment" in real.stderr, real.output)
    assert standin.returncode == 1 and "Deleting deployment" in standin.stderr, standin.output
    for outcome in (real, standin):
        assert json.loads(outcome.state_file.read_text())["current_vm_cid"] == "i-0deployed"


# The manifest rules: the stand-in's verdict against the real one each row of test_real_bosh_init records.
STANDIN_ROWS = [pytest.param(p.values[0], p.values[1] is None, p.values[1], id=p.id) for p in ROWS]


@pytest.mark.parametrize("mutate, real_accepts, real_says", STANDIN_ROWS)
def test_the_standin_refuses_what_bosh_init_refuses(microbosh_manifest, tmp_path, mutate, real_accepts, real_says):
    doc = copy.deepcopy(microbosh_manifest)
    mutate(doc)
    standin = deploy.standin_deploy(doc, tmp_path)
    accepted = "stand-in: injected failure" in standin.stderr  # it got past its rules to the "CPI"
    assert accepted == real_accepts, standin.stderr
    if not real_accepts:  # and refuses with bosh-init's words (the panic: exit 2, the words in its log)
        assert real_says in standin.errors, standin.errors
