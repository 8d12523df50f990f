"""The offline test CPI (``releases/test-cpi``): how a test points it at a state directory, tells it
how to answer, and reads the calls it received.

The CPI job (``aws_cpi``) renders ``config/cpi.json`` from the job property ``test_cpi.state_dir``
(its default, baked in when the release is built, is only a fallback); ``use_state_dir`` writes that
property into a manifest's ``cloud_provider.properties``.  In the state directory the CPI appends
one JSON line per call to ``calls.jsonl`` and reads its answers from ``config.json``; unanswered,
``create_stemcell`` fails with ``STEMCELL_ERROR`` so that bosh-init stops at its first CPI call.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from tests.support.realbosh.releases import RELEASES

PROGRAM = RELEASES / "test-cpi" / "src" / "test_cpi" / "bin" / "test_cpi"


def _constant(name: str) -> str:
    for node in ast.parse(PROGRAM.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(f"{PROGRAM} defines no {name}")


STEMCELL_ERROR = _constant("STEMCELL_ERROR")


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
