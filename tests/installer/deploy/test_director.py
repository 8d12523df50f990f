"""``bosh-install deploy director`` / ``destroy director`` with a recording stand-in for the bosh CLI v2
(the real one drives the real create-env in tests/agreement/test_real_create_env.py)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest
import yaml

from bundler.core.lock import Artifact, Lock, write_lock
from installer.cli import main as install_main
from installer.manifests.opsfile import offline_ops
from tests.support.deployfixtures import FAKE_KEY, GUIDE_SITE

SECRET = "oDexampleSecretKeyThatIsLongEnough0001"
STANDIN = """#!/bin/sh
printf '%s\\n' "$*" >> "$(dirname "$0")/calls"
[ -n "$BOSH_STANDIN_FAIL" ] && { echo "creating stemcell: CPI error"; exit 1; }
echo "Started validating"
"""


def _tgz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def _artifact(payload: Path, kind: str, name: str, path: str, data: bytes) -> Artifact:
    (payload / path).parent.mkdir(parents=True, exist_ok=True)
    (payload / path).write_bytes(data)
    trust = "pinned-by-bosh-deployment" if kind != "manifest" else "pinned"
    return Artifact(kind, name, "1", f"https://example.org/{name}", len(data), hashlib.sha256(data).hexdigest(),
                    trust, path, {"sha1": hashlib.sha1(data).hexdigest()})  # fmt: skip


@pytest.fixture
def setup(tmp_path):
    payload = tmp_path / "state" / "payload"
    source = _tgz({"bosh-deployment/bosh.yml": b"name: bosh\n", "bosh-deployment/aws/cpi.yml": b"[]\n"})
    artifacts = [
        _artifact(payload, "manifest", "bosh-deployment", "director/bosh-deployment-1.tgz", source),
        _artifact(payload, "release", "bosh", "releases/bosh-1-ubuntu-noble-1.103.tgz", b"bosh release"),
        _artifact(payload, "stemcell", "noble", "stemcells/light-noble.tgz", b"stemcell"),
    ]
    section = {"toolchain": "create-env", "source": "director/bosh-deployment-1.tgz", "top": "bosh-deployment",
               "manifest": "bosh.yml", "ops_files": [{"bosh_deployment": "aws/cpi.yml"}], "cli": "bin/bosh",
               "urls": [{"path": "/releases/name=bosh/url", "artifact": artifacts[1].path},
                        {"path": "/resource_pools/name=vms/stemcell/url", "artifact": artifacts[2].path}]}  # fmt: skip
    lock = tmp_path / "bundle.lock"
    write_lock(Lock("t", {}, tuple(artifacts), {"director": section}), lock)
    site = tmp_path / "site.yml"
    site.write_text(GUIDE_SITE + "director: {internal_ip: 10.0.0.7, vars: {extra: 1}}\n")
    (tmp_path / "bosh.pem").write_text(FAKE_KEY)
    os.chmod(tmp_path / "bosh.pem", 0o600)
    bosh = tmp_path / "bin" / "bosh"
    bosh.parent.mkdir()
    bosh.write_text(STANDIN)
    bosh.chmod(0o755)
    args = ["--site", str(site), "--lock", str(lock), "--state-dir", str(tmp_path / "state"), "--bosh", str(bosh)]
    return tmp_path, args


def _calls(tmp_path: Path) -> list[str]:
    path = tmp_path / "bin" / "calls"
    return path.read_text().splitlines() if path.exists() else []


def test_deploy_director_runs_create_env_with_state_vars_store_and_the_offline_ops_file(setup, capsys):
    tmp_path, args = setup
    assert install_main(["deploy", "director", *args, "--skip-preflight"]) == 0
    [call] = _calls(tmp_path)
    d = tmp_path / "state" / "director"
    assert call.startswith(f"-n --tty create-env {d}/bosh-deployment/bosh.yml -o {d}/bosh-deployment/aws/cpi.yml")
    assert (
        f"-o {d}/offline-ops.yml --state {d}/state.json --vars-store {d}/creds.yml --vars-file {d}/site-vars.yml"
        in call
    )
    assert f"--var-file private_key={tmp_path}/bosh.pem" in call
    ops = yaml.safe_load((d / "offline-ops.yml").read_text())
    assert ops == [
        {"type": "replace", "path": "/releases/name=bosh/url",
         "value": f"file://{tmp_path}/state/payload/releases/bosh-1-ubuntu-noble-1.103.tgz"},
        {"type": "replace", "path": "/resource_pools/name=vms/stemcell/url",
         "value": f"file://{tmp_path}/state/payload/stemcells/light-noble.tgz"},
    ]  # fmt: skip
    values = yaml.safe_load((d / "site-vars.yml").read_text())
    assert (d / "site-vars.yml").stat().st_mode & 0o777 == 0o600
    assert values["internal_ip"] == "10.0.0.7" and values["internal_cidr"] == "10.0.0.0/24"
    assert values["internal_gw"] == "10.0.0.1" and values["az"] == "us-east-1a" and values["extra"] == 1
    assert values["default_security_groups"] == ["bosh"] and values["subnet_id"] == "subnet-e8d03a9e"
    assert "director.create-env" in capsys.readouterr().out
    assert install_main(["deploy", "director", *args, "--skip-preflight"]) == 0  # done: nothing runs again
    assert len(_calls(tmp_path)) == 1


def test_a_failed_create_env_is_journaled_redacted_and_runs_again(setup, monkeypatch, capsys):
    tmp_path, args = setup
    monkeypatch.setenv("BOSH_STANDIN_FAIL", "1")
    assert install_main(["deploy", "director", *args, "--skip-preflight"]) == 1
    journal = json.loads((tmp_path / "state" / "journal.json").read_text())["steps"]
    assert journal["director.verify"]["state"] == "done" and journal["director.create-env"]["state"] == "failed"
    assert "CPI error" in journal["director.create-env"]["error"]
    monkeypatch.delenv("BOSH_STANDIN_FAIL")
    assert install_main(["deploy", "director", *args, "--skip-preflight"]) == 0
    assert len(_calls(tmp_path)) == 2
    logs = "".join(p.read_text() for p in (tmp_path / "state" / "logs").iterdir())
    assert SECRET not in logs + capsys.readouterr().out


def test_the_aws_preflight_runs_first_unless_skipped(setup, monkeypatch, capsys):
    tmp_path, args = setup
    seen = []
    monkeypatch.setattr(
        "installer.commands.deploy_director.require_preflight", lambda site, lock: seen.append(site.name)
    )
    assert install_main(["deploy", "director", *args]) == 0
    assert seen == ["bosh"]

    def refuse(site, lock):
        from bundler.core.errors import BundleError

        raise BundleError("AWS preflight failed (1 checks)")

    monkeypatch.setattr("installer.commands.deploy_director.require_preflight", refuse)
    (tmp_path / "state" / "journal.json").unlink()
    assert install_main(["deploy", "director", *args]) == 1
    assert len(_calls(tmp_path)) == 1  # nothing ran after the refusal


def test_a_changed_payload_file_stops_the_deploy_before_create_env(setup, capsys):
    tmp_path, args = setup
    (tmp_path / "state" / "payload" / "releases" / "bosh-1-ubuntu-noble-1.103.tgz").write_bytes(b"other")
    assert install_main(["deploy", "director", *args, "--skip-preflight"]) == 1
    assert "bosh-1-ubuntu-noble-1.103.tgz: sha256 is" in capsys.readouterr().err
    assert _calls(tmp_path) == []


def test_plan_shows_the_command_and_runs_nothing(setup, capsys):
    tmp_path, args = setup
    assert install_main(["deploy", "director", *args, "--plan"]) == 0
    out = capsys.readouterr().out
    assert "would run (new)" in out and "create-env" in out and SECRET not in out
    assert _calls(tmp_path) == []


def test_destroy_director_runs_delete_env_with_the_same_state(setup, capsys):
    tmp_path, args = setup
    assert install_main(["destroy", "director", *args, "--yes"]) == 2  # nothing created yet
    assert "no director state here" in capsys.readouterr().err
    assert install_main(["deploy", "director", *args, "--skip-preflight"]) == 0
    (tmp_path / "state" / "director" / "state.json").write_text("{}")
    assert install_main(["destroy", "director", *args, "--yes"]) == 0
    calls = _calls(tmp_path)
    assert calls[-1].startswith("-n --tty delete-env ") and "--state" in calls[-1]
    journal = json.loads((tmp_path / "state" / "journal.json").read_text())["steps"]
    assert not [n for n in journal if n.startswith("director.")]


def test_a_bosh_init_bundle_is_refused_with_what_to_do(setup, capsys):
    tmp_path, args = setup
    write_lock(Lock("t", {}, (), {"director": {"toolchain": "bosh-init"}}), tmp_path / "bundle.lock")
    assert install_main(["deploy", "director", *args, "--skip-preflight"]) == 2
    assert "deploy with 'bosh-install deploy microbosh'" in capsys.readouterr().err


def test_offline_ops_needs_urls():
    from bundler.core.errors import InputError
    from bundler.core.lock import DirectorSection

    with pytest.raises(InputError, match="names no release or stemcell url"):
        offline_ops(DirectorSection(toolchain="create-env"), Path("/p"))
