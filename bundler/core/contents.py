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

from collections.abc import Callable
from pathlib import Path

from bundler.boshio.resolve import check_artifact as check_bosh_tarball
from bundler.core.lock import Artifact
from bundler.gems.resolve import check_artifact as check_gem

CHECKERS: dict[str, Callable[[Path, Artifact], list[str]]] = {
    "gem": check_gem,
    "release": check_bosh_tarball,
    "stemcell": check_bosh_tarball,
}


def check_contents(path: Path, artifact: Artifact) -> list[str]:
    """Every problem with the file's self-description against the lock; [] when none or no checker."""
    checker = CHECKERS.get(artifact.kind)
    return checker(path, artifact) if checker else []
