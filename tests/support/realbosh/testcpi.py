"""The offline test CPI (``releases/test-cpi``): how a test points it at a state directory, tells it
how to answer, and reads the calls it received.

The CPI job (``aws_cpi``) renders ``config/cpi.json`` from the job property ``test_cpi.state_dir``
(its default, baked in when the release is built, is only a fallback); ``use_state_dir`` writes that
property into a manifest's ``cloud_provider.properties``.  In the state directory the CPI appends
one JSON line per call to ``calls.jsonl`` and reads its answers from ``config.json``; unanswered,
``create_stemcell`` fails with ``STEMCELL_ERROR`` so that bosh-init stops at its first CPI call.

Where a test cannot write that property (``bosh-install deploy`` renders the manifest itself),
``release_beside_bosh_init`` builds the test CPI with the relative default ``CWD_STATE_DIR``: the CPI
runs in bosh-init's working directory (the driver's ``STATE/deploy``), so its calls land there.
``deployed_state`` is what a deploy that went to the end leaves in bosh-init's state file (the real
one cannot get there offline), and ``DELETE_ANSWERS`` lets the real ``bosh-init delete`` delete it.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from tests.support.realbosh.releases import RELEASES, RealRelease, ReleaseSource, build_source
from tests.support.realbosh.tools import RealTools

PROGRAM = RELEASES / "test-cpi" / "src" / "test_cpi" / "bin" / "test_cpi"


def _constant(name: str) -> str:
    for node in ast.parse(PROGRAM.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(f"{PROGRAM} defines no {name}")


STEMCELL_ERROR = _constant("STEMCELL_ERROR")
CWD_STATE_DIR = "cpi-calls"
DELETE_ANSWERS = {m: {"result": None} for m in ("delete_vm", "delete_disk", "delete_stemcell")} | {
    "has_vm": {"result": False}
}


def release_beside_bosh_init(tools: RealTools, root: Path) -> RealRelease:
    """The test CPI (as ``bosh-aws-cpi`` 36, final, sha1 digests) whose state directory is
    ``CWD_STATE_DIR`` under bosh-init's working directory; built once into ``root`` (the cache)."""
    source = ReleaseSource(
        "test-cpi-cwd",
        RELEASES / "test-cpi",
        name="bosh-aws-cpi",
        final_version="36",
        substitutions=(("jobs/aws_cpi/spec", "@STATE_DIR@", CWD_STATE_DIR),),
    )
    return build_source(source, tools, root)["test-cpi-cwd-final-sha1"]


def deployed_state(director_id: str = "0d1e2c3b-0000-4000-8000-000000000001") -> dict[str, Any]:
    """bosh-init's state file after a deploy that went to the end: a VM, its disk and its stemcell."""
    return {
        "director_id": director_id,
        "installation_id": "0d1e2c3b-0000-4000-8000-000000000002",
        "current_vm_cid": "i-0deployed",
        "current_stemcell_id": "stemcell-1",
        "current_disk_id": "disk-1",
        "current_release_ids": ["release-1"],
        "current_manifest_sha1": "0" * 40,
        "disks": [{"id": "disk-1", "cid": "vol-0deployed", "size": 20000, "cloud_properties": {}}],
        "stemcells": [
            {
                "id": "stemcell-1",
                "name": "bosh-aws-xen-hvm-ubuntu-trusty-go_agent",
                "version": "3147",
                "cid": "ami-0deployed light",
            }
        ],
        "releases": [{"id": "release-1", "name": "bosh-aws-cpi", "version": "36"}],
    }


def use_state_dir(manifest: dict, state_dir: Path) -> None:
    """Point the manifest's CPI at ``state_dir`` (when the manifest still has cloud_provider.properties)."""
    provider = manifest.get("cloud_provider")
    if not isinstance(provider, dict):
        return
    properties = provider.setdefault("properties", {})
    if isinstance(properties, dict):
        properties["test_cpi"] = {"state_dir": str(state_dir)}


def set_answers(state_dir: Path, answers: dict[str, dict[str, Any]]) -> None:
    """``answers``: METHOD -> {"result": VALUE} or {"error": {"type", "message", "ok_to_retry"}}."""
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "config.json").write_text(json.dumps(answers, sort_keys=True))


def calls(state_dir: Path) -> list[dict[str, Any]]:
    """The calls received, in order: {"method", "arguments", "context", "cpi_config"}."""
    log = state_dir / "calls.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
