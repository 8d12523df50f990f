"""Checks of an artifact's *contents*, beyond its sha256: the hook shared by build and verify.

A sha256 proves we have the bytes the lock names; it does not prove the lock named the right
thing.  For some kinds the file describes itself (a release's ``release.MF``, a stemcell's
``stemcell.MF``, a gem's ``metadata.gz``), and we compare that description with the lock.  Each
source module that can do so exposes ``check_artifact(path: Path, artifact: Artifact) -> list[str]``
returning every problem found (empty when all is right); each problem names the artifact and the
inner file.  ``bosh-bundle build`` runs these after download, ``verify`` on both sides runs them
again.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from bundler.lock import Artifact

CHECKERS: dict[str, str] = {
    "gem": "bundler.sources.gems:check_artifact",
    "release": "bundler.sources.bosh:check_artifact",
    "stemcell": "bundler.sources.bosh:check_artifact",
}


def _checker(kind: str) -> Callable[[Path, Artifact], list[str]] | None:
    target = CHECKERS.get(kind)
    if target is None:
        return None
    module_name, _, func = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None  # that source is not part of this build of the tool
        raise
    return getattr(module, func, None)


def check_contents(path: Path, artifact: Artifact) -> list[str]:
    """Every problem with the file's self-description against the lock; [] when none or no checker."""
    checker = _checker(artifact.kind)
    return checker(path, artifact) if checker else []
