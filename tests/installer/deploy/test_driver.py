"""The deploy driver against STAND-INS for bosh-init and the bosh v1 CLI.

A full deploy needs what nothing here has: a cloud behind bosh-init's CPI, an agent on the VM, a
director for the bosh v1 CLI (bosh_cli 1.3147).  So these flows run tests/support/standins/bosh-init
and tests/support/standins/bosh: Python scripts that enforce what the real tools require (argument
shape, manifest rules, files present, the target → login → upload → deployment → deploy order, the
director UUID check), write bosh-init's state file as it does, and fail on demand (BOSH_STANDIN_FAIL).
The bosh-init stand-in is held to the real bosh-init by tests/agreement/test_real_standins.py; what
the real one answers offline is asked of it (test_boshinit.py, tests/agreement/test_real_deploy.py).
What is proven here is the driver's behaviour: order, journaling, resuming, keeping state (and
following bosh-init when it deletes it), saying what destroy deleted, redaction, pointing at the log.
"""

import json
import subprocess
import sys
import types

import pytest

from installer.aws import checks
from installer.cli import main
from installer.journal import Journal
from installer.manifests.secrets import VarsStore
from installer.site.model import load_site
from tests.support.deployfixtures import GUIDE_SITE, make_fixture
from tests.support.paths import STANDINS


@pytest.fixture
def env(tmp_path, monkeypatch):
    fx = make_fixture(tmp_path / "site")
    monkeypatch.setenv("BOSH_STANDIN_STATE", str(tmp_path / "aws"))
    monkeypatch.delenv("BOSH_STANDIN_FAIL", raising=False)
    fx.state = tmp_path / "state"
    return fx


def _args(fx, *extra):
    return [
        "--site", str(fx.site_path), "--lock", str(fx.lock_path), "--payload", str(fx.payload),
        "--state-dir", str(fx.state), "--bosh-init", str(STANDINS / "bosh-init"), "--bosh", str(STANDINS / "bosh"),
        *extra,
    ]  # fmt: skip


def _margs(fx, *extra):
    return ["--site", str(fx.site_path), "--lock", str(fx.lock_path), "--payload", str(fx.payload),
            "--state-dir", str(fx.state), *extra]  # fmt: skip


def deploy(fx, kind, *extra):
    return main(["deploy", kind, *_args(fx, "--skip-preflight", *extra)])


def _director(tmp_path):
    (record,) = (tmp_path / "aws" / "directors").glob("*.json")
    return json.loads(record.read_text())


def _secrets(fx):
    site = load_site(fx.site_path)
    store = VarsStore(site.vars_store)
    values = store.secrets_for("microbosh").values() + store.secrets_for("bosh").values()
    return values + [site.aws.secret_access_key]


def _assert_no_secret_anywhere(fx, *texts):
    blobs = list(texts) + [p.read_text(errors="replace") for p in (fx.state / "logs").rglob("*") if p.is_file()]
    if (fx.state / "journal.json").exists():
        blobs.append((fx.state / "journal.json").read_text())
    for secret in _secrets(fx):
        for blob in blobs:
            assert secret not in blob


def test_deploy_microbosh_then_bosh_with_the_stand_ins(env, tmp_path, capsys):
    assert deploy(env, "microbosh") == 0, capsys.readouterr()
    out = capsys.readouterr().out
    director = _director(tmp_path)
    assert f"director UUID {director['uuid']}" in out and "https://52.99.9.99:25555" in out
    assert "  | Started validating" in out  # bosh-init's progress is shown while it runs
    _assert_no_secret_anywhere(env, out)
    state = json.loads((env.state / "microbosh-state.json").read_text())  # kept in the state dir
    assert state["current_vm_cid"].startswith("i-") and state["installation_id"]
    assert (env.state / "deploy" / "microbosh-state.json").exists()  # and beside the manifest
    bosh_init_log = (env.state / "logs" / "bosh-init.log").read_text()  # BOSH_INIT_LOG_PATH
    assert "Started validating" in bosh_init_log and "https://mbus:<redacted>@52.99.9.99:6868" in bosh_init_log
    assert Journal.open(env.state).facts("microbosh.uuid")["uuid"] == director["uuid"]

    assert deploy(env, "bosh") == 0, capsys.readouterr()
    out = capsys.readouterr().out
    director = _director(tmp_path)
    assert director["deployments"] == {"bosh": str(env.state / "deploy" / "bosh.yml")}
    assert [s["version"] for s in director["stemcells"]] == ["3147"]
    assert [(r["name"], r["version"]) for r in director["releases"]] == [("bosh", "233")]
    _assert_no_secret_anywhere(env, out)

    # Everything done: a second run changes nothing.
    assert deploy(env, "bosh") == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("bosh.")]
    assert lines and all(" done " in line for line in lines)


def test_uploads_are_skipped_when_the_director_has_them(env, tmp_path, capsys):
    assert deploy(env, "microbosh") == 0
    cfg = str(env.state / "bosh_config")
    stemcell = next(env.payload.glob("stemcells/bosh-stemcell-*"))
    subprocess.run([str(STANDINS / "bosh"), "-n", "-c", cfg, "upload", "stemcell", str(stemcell)], check=True)
    assert deploy(env, "bosh") == 0, capsys.readouterr()
    journal = Journal.open(env.state)
    assert journal.facts("bosh.upload-stemcell") == {"uploaded": False}
    assert journal.facts("bosh.upload-release") == {"uploaded": True}


FAILURES = [
    # (what the stand-in is told to fail, the deployment, the journal step that must fail)
    ("bosh-init-deploy", "microbosh", "microbosh.bosh-init"),
    ("target", "microbosh", "microbosh.target"),
    ("login", "microbosh", "microbosh.login"),
    ("status", "microbosh", "microbosh.uuid"),
    ("upload-stemcell", "bosh", "bosh.upload-stemcell"),
    ("upload-release", "bosh", "bosh.upload-release"),
    ("deployment", "bosh", "bosh.deployment"),
    ("deploy", "bosh", "bosh.deploy"),
]


@pytest.mark.parametrize(("inject", "kind", "step"), FAILURES, ids=[f[0] for f in FAILURES])
def test_a_failure_at_each_step_is_reported_and_resumed(env, tmp_path, monkeypatch, capsys, inject, kind, step):
    if kind == "bosh":
        assert deploy(env, "microbosh") == 0
    capsys.readouterr()
    monkeypatch.setenv("BOSH_STANDIN_FAIL", inject)
    assert deploy(env, kind) == 1
    err = capsys.readouterr().err
    assert f"step {step} failed" in err
    assert "full log:" in err or "debug log" in err
    journal = Journal.open(env.state)
    assert journal.steps[step].state == "failed"
    before = [n for n in journal.steps if n.startswith(kind + ".") and journal.steps[n].state == "done"]
    _assert_no_secret_anywhere(env, err)

    monkeypatch.delenv("BOSH_STANDIN_FAIL")
    assert deploy(env, kind) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    for name in before:  # resumed: what was done is not run again
        assert any(line.startswith(name) and " done " in line for line in out.splitlines()), (name, out)
    assert all(rec.state == "done" for rec in Journal.open(env.state).steps.values())


def test_failed_bosh_deploy_fetches_the_task_debug_log(env, monkeypatch, capsys):
    assert deploy(env, "microbosh") == 0
    monkeypatch.setenv("BOSH_STANDIN_FAIL", "deploy")
    assert deploy(env, "bosh") == 1
    err = capsys.readouterr().err
    (debug,) = (env.state / "logs").glob("bosh-task-*-debug.log")
    assert str(debug) in err and "injected failure" in debug.read_text()


def test_bosh_init_state_survives_a_failed_deploy(env, monkeypatch):
    monkeypatch.setenv("BOSH_STANDIN_FAIL", "bosh-init-deploy")
    assert deploy(env, "microbosh") == 1
    kept = json.loads((env.state / "microbosh-state.json").read_text())
    assert kept["installation_id"]
    (env.state / "deploy" / "microbosh-state.json").unlink()  # lost: restored before the next run
    monkeypatch.delenv("BOSH_STANDIN_FAIL")
    assert deploy(env, "microbosh") == 0
    assert json.loads((env.state / "microbosh-state.json").read_text())["installation_id"] == kept["installation_id"]


def test_plan_shows_commands_with_secrets_redacted(env, capsys):
    assert main(["deploy", "microbosh", *_args(env, "--plan")]) == 0
    out = capsys.readouterr().out
    assert "bosh-init deploy" in out and "login admin\n" in out + "\n"  # the password goes on stdin, not argv
    assert "would run (new)" in out
    assert not (env.state / "deploy" / "microbosh.yml").exists()  # nothing done
    _assert_no_secret_anywhere(env, out)


def test_bosh_before_microbosh_is_refused(env, capsys):
    assert deploy(env, "bosh") == 2
    assert "run 'bosh-install deploy microbosh'" in capsys.readouterr().err


def test_invalid_site_runs_nothing(tmp_path, monkeypatch, capsys):
    fx = make_fixture(tmp_path / "site", GUIDE_SITE.replace("instance_type: m3.xlarge", "instance_type: m1.large"))
    monkeypatch.setenv("BOSH_STANDIN_STATE", str(tmp_path / "aws"))
    fx.state = tmp_path / "state"
    assert deploy(fx, "microbosh") == 2
    assert "microbosh.instance_type: m1.large cannot run the HVM stemcell" in capsys.readouterr().err
    assert not (tmp_path / "aws").exists() and not (fx.state / "journal.json").exists()


def test_preflight_hook_runs_unless_skipped(env, monkeypatch):
    calls = []
    monkeypatch.setattr(
        checks, "preflight", lambda site, lock: calls.append((site.aws.region, len(lock.artifacts))) or []
    )
    assert main(["deploy", "microbosh", *_args(env)]) == 0
    assert calls == [("us-east-1", 4)]
    assert main(["deploy", "microbosh", *_args(env, "--skip-preflight")]) == 0
    assert len(calls) == 1


def test_failed_preflight_stops_the_deploy(env, monkeypatch, capsys):
    failed = types.SimpleNamespace(ok=False, name="security_group", detail="port 6868 is closed", fix="open it",
                                   field="site.yml:14: network.security_group")  # fmt: skip
    monkeypatch.setattr(checks, "preflight", lambda site, lock: [types.SimpleNamespace(ok=True), failed])
    assert main(["deploy", "microbosh", *_args(env)]) == 1
    err = capsys.readouterr().err
    assert "network.security_group: port 6868 is closed (open it)" in err and "--skip-preflight" in err
    assert not (env.state / "journal.json").exists()


def test_destroy_asks_then_deletes(env, tmp_path, monkeypatch, capsys):
    assert deploy(env, "microbosh") == 0
    assert deploy(env, "bosh") == 0
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(isatty=lambda: False))
    assert main(["destroy", "bosh", *_args(env)]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["destroy", "microbosh", *_args(env, "--yes")]) == 2  # BOSH first
    assert "destroy bosh' first" in capsys.readouterr().err
    assert main(["destroy", "bosh", *_args(env, "--yes")]) == 0
    assert _director(tmp_path).get("deployments") == {}
    vm = json.loads((env.state / "microbosh-state.json").read_text())["current_vm_cid"]
    capsys.readouterr()
    assert main(["destroy", "microbosh", *_args(env, "--yes")]) == 0
    assert f"deleted MicroBOSH: the VM {vm}, the disk vol-" in capsys.readouterr().out
    assert not list((tmp_path / "aws" / "directors").glob("*.json"))
    # bosh-init deletes its state file (tests/agreement/test_real_standins): the kept copy follows it
    assert not (env.state / "microbosh-state.json").exists()
    assert not (env.state / "deploy" / "microbosh-state.json").exists()
    assert not any(n.startswith("microbosh.") for n in Journal.open(env.state).steps)


def test_a_deploy_after_destroy_does_not_restore_the_deleted_vm(env, capsys):
    """Disagreement 3 of issue 12 (with the real bosh-init: tests/agreement/test_real_deploy.py)."""
    assert deploy(env, "microbosh") == 0
    old = json.loads((env.state / "microbosh-state.json").read_text())
    assert main(["destroy", "microbosh", *_args(env, "--yes")]) == 0
    assert deploy(env, "microbosh") == 0, capsys.readouterr()
    new = json.loads((env.state / "microbosh-state.json").read_text())
    assert new["current_vm_cid"] != old["current_vm_cid"] and new["installation_id"] != old["installation_id"]
    assert json.loads((env.state / "microbosh-state.json.prev").read_text()) == old


def test_destroy_after_a_failed_deploy_says_nothing_was_deployed(env, monkeypatch, capsys):
    monkeypatch.setenv("BOSH_STANDIN_FAIL", "bosh-init-deploy")
    assert deploy(env, "microbosh") == 1
    err = capsys.readouterr().err
    assert "bosh-init deploy failed at \"Creating VM for instance 'bosh/0' from stemcell" in err
    assert "CPI 'create_vm' method responded with error" in err.split("\n")[0]  # bosh-init's error, first
    monkeypatch.delenv("BOSH_STANDIN_FAIL")
    assert main(["destroy", "microbosh", *_args(env, "--yes")]) == 0
    out = capsys.readouterr().out
    assert "nothing was deployed: bosh-init's state recorded no VM, disk or stemcell" in out
    assert not (env.state / "microbosh-state.json").exists()
    assert not any(n.startswith("microbosh.") for n in Journal.open(env.state).steps)


def test_a_failed_destroy_keeps_the_state_and_the_journal(env, monkeypatch, capsys):
    assert deploy(env, "microbosh") == 0
    kept = json.loads((env.state / "microbosh-state.json").read_text())
    monkeypatch.setenv("BOSH_STANDIN_FAIL", "bosh-init-delete")
    assert main(["destroy", "microbosh", *_args(env, "--yes")]) == 1
    err = capsys.readouterr().err
    assert 'bosh-init delete failed at "deleting deployment": Deleting deployment: stand-in: injected failure' in err
    assert json.loads((env.state / "microbosh-state.json").read_text()) == kept
    assert Journal.open(env.state).steps["microbosh.bosh-init"].state == "done"


def test_destroy_is_refused_when_the_state_of_a_deployed_microbosh_is_lost(env, capsys):
    assert deploy(env, "microbosh") == 0
    for lost in ("microbosh-state.json", "deploy/microbosh-state.json"):
        (env.state / lost).unlink()
    before = Journal.open(env.state).steps
    assert main(["destroy", "microbosh", *_args(env, "--yes")]) == 1
    err = capsys.readouterr().err
    assert "bosh-init's state file is gone" in err and "put the state file back at" in err
    assert str(env.state / "microbosh-state.json") in err
    assert not (env.state / "logs" / "bosh-init-delete.log").exists()  # bosh-init was not run
    assert Journal.open(env.state).steps.keys() == before.keys()  # the journal still says it is deployed
    assert list((tmp_dir := env.state.parent / "aws" / "directors").glob("*.json")), tmp_dir


# ---- the stand-ins themselves refuse what the real tools refuse (the bosh-init stand-in's argument
# and manifest checks moved to test_boshinit.py, against the real bosh-init; the stand-in is held to
# it by tests/agreement/test_real_standins.py)


def _standin(tool, *args, **kw):
    return subprocess.run([str(STANDINS / tool), *args], capture_output=True, text=True, **kw)


def test_bosh_stand_in_enforces_order_and_uuid(env, tmp_path):
    cfg = ["-n", "-c", str(tmp_path / "cfg")]
    assert "Please choose target first" in _standin("bosh", *cfg, "status").stdout
    assert deploy(env, "microbosh") == 0
    assert _standin("bosh", *cfg, "target", "52.99.9.99").returncode == 0
    assert "Please log in first" in _standin("bosh", *cfg, "stemcells").stdout
    assert _standin("bosh", *cfg, "login", "admin", "wrong").returncode == 1
    main(["manifests", "render", *_margs(env, "--out", str(tmp_path / "m"), "--director-uuid", "not-this-one")])
    password = VarsStore(load_site(env.site_path).vars_store).secrets_for("microbosh")["admin_password"]
    assert _standin("bosh", *cfg, "login", "admin", password).returncode == 0
    assert _standin("bosh", *cfg, "deployment", str(tmp_path / "m" / "bosh.yml")).returncode == 0
    r = _standin("bosh", *cfg, "deploy")
    assert r.returncode == 1 and "This manifest references director with UUID not-this-one" in r.stdout


def test_a_file_changed_after_verification_is_checked_again(env, capsys):
    assert deploy(env, "microbosh") == 0
    release = env.payload / "releases" / "bosh-233.tgz"
    release.write_bytes(release.read_bytes()[:-1] + b"!")
    assert deploy(env, "microbosh") == 1
    assert "sha256" in capsys.readouterr().err
