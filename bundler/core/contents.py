"""Checks of an artifact's *contents*, beyond its sha256: the hook shared by build and verify.

A sha256 proves we have the bytes the lock names; it does not prove the lock named the right
thing.  For some kinds the file describes itself (a release's ``release.MF``, a stemcell's
``stemcell.MF``, a gem's ``metadata.gz``), and we compare that description with the lock.  Each
checker is ``check_artifact(path: Path, artifact: Artifact) -> list[Problem]`` (every problem found,
empty when all is right; each places itself at the artifact and names the inner file):
``bundler.core.bosh.check`` for releases and stemcells, ``bundler.core.gem.metadata`` for gems.
``check_contents`` renders them as the lines ``bosh-bundle build`` and ``verify`` on both sides
report.

Imports only ``bundler.core`` (the offline side runs these checks too).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bundler.core.bosh.check import check_artifact as check_bosh_tarball
from bundler.core.gem.metadata import check_artifact as check_gem
from bundler.core.lock import Artifact
from bundler.core.problems import Problem

CHECKERS: dict[str, Callable[[Path, Artifact], list[Problem]]] = {
    "gem": check_gem,
    "release": check_bosh_tarball,
    "stemcell": check_bosh_tarball,
}


def check_contents(path: Path, artifact: Artifact) -> list[str]:
    """Every problem with the file's self-description against the lock, as text; [] when none or no checker."""
    checker = CHECKERS.get(artifact.kind)
    return [str(p) for p in checker(path, artifact)] if checker else []
