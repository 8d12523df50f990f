"""``bosh create-env`` from bosh-deployment, end to end with the real bosh CLI v7.9.13.

``bosh-bundle lock`` of examples/create-env-aws.yml (its ``director`` section: ``create-env``; the
bosh-deployment source replaced by an operator's fork of the snapshot, the CLI by the one built here)
interpolates the fork with the real CLI and locks every release and stemcell it names
(from the replica at S3/bosh.io/GCS/GitHub-style URLs); ``build`` and ``verify`` make and check the
bundle; the payload is extracted by the installer's extraction; then ``bosh-install deploy director``
runs the real ``bosh create-env`` under ``unshare --net`` with the offline test CPI: it validates the
manifest, the releases (two compiled for the stemcell, the CPI from source) and the stemcell, compiles
the CPI and stops at its first VM-side CPI call, ``create_stemcell``, which the test CPI fails.
A compiled release built for another stemcell version is refused at lock, naming both stemcells.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bundler.cli import main as bundle_main
from bundler.core.extract import extract_payload
from bundler.core.lock import read_lock
from tests.support import createenv
from tests.support.deployfixtures import FAKE_KEY, GUIDE_SITE
from tests.support.paths import REPO
from tests.support.realbosh import testcpi
from tests.support.realbosh.releases import cache_root

pytestmark = pytest.mark.real_bosh


def _bundle(*argv: str) -> tuple[int, str]:
    """``bosh-bundle ARGV`` in-process: its exit code and what it printed (stdout and stderr)."""
    out = io.StringIO()
    with contextlib.redirect_stderr(out), contextlib.redirect_stdout(out):
        code = bundle_main(list(argv))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def tarballs(real_releases, real_tools, tmp_path_factory):
    root = tmp_path_factory.mktemp("create-env-set")
    return createenv.build_set(real_releases, real_tools, root, cache_root(root / "cache"))


def _spec(dest: Path, deployment: createenv.Served, replica: createenv.Replica, cpi_state: Path) -> Path:
    own_ops = dest.parent / "test-cpi-state.yml"
    own_ops.write_text(
        yaml.safe_dump(
            [
                {
                    "type": "replace",
                    "path": "/cloud_provider/properties/test_cpi?",
                    "value": {"state_dir": str(cpi_state)},
                }
            ]
        )
    )
    example = yaml.safe_load((REPO / "examples" / "create-env-aws.yml").read_text())
    spec = {key: example[key] for key in ("name", "target", "binaries", "director")}  # not the debs: no archive here
    spec["binaries"][0]["sha256"] = createenv.Served(REPO / ".bosh-tools" / "bosh", "").sha256  # built here
    spec["director"]["bosh_deployment"] = {"url": deployment.url, "sha256": deployment.sha256}  # the fork
    spec["director"]["ops_files"].append("./test-cpi-state.yml")
    spec["mirrors"] = replica.mirrors
    dest.write_text(yaml.safe_dump(spec, sort_keys=False))
    return dest


def test_lock_build_verify_then_deploy_director_reaches_the_cpi_offline(tarballs, tmp_path):
    deployment = createenv.fork(tmp_path / "fork.tar.gz", tarballs)
    cpi_state = tmp_path / "cpi"
    testcpi.set_answers(cpi_state, {"info": {"result": {"api_version": 2, "stemcell_formats": ["aws-light"]}}})
    with createenv.serve([*tarballs.all(), deployment]) as replica:
        spec = _spec(tmp_path / "bundle.yml", deployment, replica, cpi_state)
        cache = tmp_path / "cache"
        code, err = _bundle("lock", "--spec", str(spec), "--cache", str(cache))
        assert code == 0, err
        lock = read_lock(tmp_path / "bundle.lock")
        code, err = _bundle("build", "--lock", str(tmp_path / "bundle.lock"), "--out", str(tmp_path / "out"),
                            "--cache", str(cache), "--spec", str(spec))  # fmt: skip
        assert code == 0, err
    code, err = _bundle("verify", str(tmp_path / "out"))
    assert code == 0, err

    director = lock.director
    by_path = {a.path: a for a in lock.artifacts}
    urls = {u["path"]: by_path[u["artifact"]] for u in director.urls}
    assert urls["/releases/name=bosh/url"].trust == "pinned-by-bosh-deployment"
    assert urls["/releases/name=bosh/url"].sha256 == tarballs.bosh.sha256  # given as sha256:… in the fork
    assert urls["/releases/name=bosh/url"].meta == {"sha1": tarballs.bosh.sha1, "compiled_for": ["ubuntu-noble/1.103"]}
    assert urls["/releases/name=bosh-aws-cpi/url"].meta["sha1"] == tarballs.cpi.sha1
    assert urls["/resource_pools/name=vms/stemcell/url"].meta["operating_system"] == "ubuntu-noble"

    state = tmp_path / "state"
    extract_payload(tmp_path / "out", state / "payload", lock)
    site = tmp_path / "site.yml"
    (tmp_path / "bosh.pem").write_text(FAKE_KEY)
    os.chmod(tmp_path / "bosh.pem", 0o600)
    site.write_text(GUIDE_SITE)
    argv = [sys.executable, "-m", "installer", "deploy", "director", "--site", site, "--bundle", tmp_path / "out",
            "--state-dir", state, "--bosh", REPO / ".bosh-tools" / "bosh", "--skip-preflight", "--yes"]  # fmt: skip
    proc = subprocess.run(
        ["unshare", "--net", "sh", "-c", 'ip link set lo up; exec "$@"', "sh", *map(str, argv)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    calls = testcpi.calls(cpi_state)
    log = (state / "logs" / "bosh-create-env.log").read_text()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    methods = [c["method"] for c in calls]
    assert methods[-1] == "create_stemcell" and set(methods[:-1]) == {"info"}, log  # info: the CPI's API version
    assert testcpi.STEMCELL_ERROR in proc.stdout + proc.stderr
    for stage in ("Validating release 'bosh'", "Validating release 'bpm'", "Validating cpi release",
                  "Validating deployment manifest", "Validating stemcell", "Compiling package 'test_cpi/",
                  "Rendering job templates", "Uploading stemcell"):  # fmt: skip
        assert stage in log, stage
    ops = yaml.safe_load((state / "director" / "offline-ops.yml").read_text())
    assert {op["path"] for op in ops} == set(urls)
    assert all(op["value"].startswith(f"file://{state}/payload/") for op in ops)
    journal = json.loads((state / "journal.json").read_text())
    assert journal["steps"]["director.ops"]["state"] == "done"
    assert journal["steps"]["director.create-env"]["state"] == "failed"
    assert "oDexampleSecretKeyThatIsLongEnough0001" not in log + proc.stdout + proc.stderr


def test_a_release_compiled_for_another_stemcell_version_is_refused_at_lock(tarballs, tmp_path):
    deployment = createenv.fork(tmp_path / "fork.tar.gz", tarballs, bosh=tarballs.bosh_other)
    with createenv.serve([*tarballs.all(), deployment]) as replica:
        spec = _spec(tmp_path / "bundle.yml", deployment, replica, tmp_path / "cpi")
        code, err = _bundle("lock", "--spec", str(spec), "--cache", str(tmp_path / "cache"))
    assert code == 1, err
    assert "release bosh 233" in err
    assert "compiled for stemcell ubuntu-noble/1.99" in err
    assert f"stemcell {createenv.STEMCELL} 1.103" in err and "is ubuntu-noble/1.103" in err
    assert not (tmp_path / "bundle.lock").exists()


def test_a_release_compiled_for_another_stemcell_version_is_refused_by_build_verify_and_bosh_check(
    tarballs, tmp_path, monkeypatch
):
    """A bundle whose bosh release was compiled for 1.99 (say, assembled by an older bosh-bundle): build
    refuses it, verify refuses it on either side, and ``bosh check --stemcell`` names both stemcells."""
    deployment = createenv.fork(tmp_path / "fork.tar.gz", tarballs)
    with createenv.serve([*tarballs.all(), deployment]) as replica:
        spec = _spec(tmp_path / "bundle.yml", deployment, replica, tmp_path / "cpi")
        assert _bundle("lock", "--spec", str(spec), "--cache", str(tmp_path / "cache"))[0] == 0
    doc = json.loads((tmp_path / "bundle.lock").read_text())
    other = tarballs.bosh_other
    for a in doc["artifacts"]:
        if a["kind"] == "release" and a["name"] == "bosh":
            a.update(url=other.path.as_uri(), sha256=other.sha256, size=other.path.stat().st_size)
            a["meta"] = {"sha1": other.sha1, "compiled_for": ["ubuntu-noble/1.99"]}
    bad_lock = tmp_path / "bad.lock"
    bad_lock.write_text(json.dumps(doc, indent=2, sort_keys=True))
    build = ("build", "--lock", str(bad_lock), "--cache", str(tmp_path / "cache"), "--spec", str(spec))

    code, err = _bundle(*build, "--out", str(tmp_path / "refused"))
    assert code == 1 and "compiled for stemcell ubuntu-noble/1.99" in err and "is ubuntu-noble/1.103" in err, err
    assert not (tmp_path / "refused").exists()

    monkeypatch.setattr("bundler.build.compiled.bundle_problems", lambda lock, files: [])  # an older builder
    assert _bundle(*build, "--out", str(tmp_path / "out"))[0] == 0
    monkeypatch.undo()
    code, err = _bundle("verify", str(tmp_path / "out"))
    assert code == 1, err
    assert "release bosh 233 (releases/bosh-233-ubuntu-noble-1.103.tgz): package" in err
    assert "compiled for stemcell ubuntu-noble/1.99" in err
    assert f"stemcell {createenv.STEMCELL} 1.103 (stemcells/" in err and "is ubuntu-noble/1.103" in err

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = bundle_main(["bosh", "check", "--json", "--stemcell", str(tarballs.stemcell.path), str(other.path)])
    report = json.loads(out.getvalue())
    assert code == 1
    [problem] = report["tarballs"][0]["problems"]
    assert "compiled for stemcell ubuntu-noble/1.99" in problem and "is ubuntu-noble/1.103" in problem
    assert "packages director, health_monitor" in problem
