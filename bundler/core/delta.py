"""Delta bundles: only the artifacts an older lock lacks, with the full new lock.

``bosh-bundle build --since OLD.lock`` packs into the payload only the artifacts of the new lock that
OLD.lock does not have with the same path and sha256, and writes ``delta.json`` (listed in
``SHA256SUMS`` like every file)::

    {"format": 1, "since": SHA256 of OLD.lock, "packed": [payload paths],
     "base": {payload path: sha256, ...}}   # what must already be extracted on the offline host

Both ``verify`` commands check a delta's payload against ``packed_lock`` (the lock's packed
artifacts only); the installer installs it on top of the previous payload and refuses it, naming what
is missing, when that payload does not hold every ``base`` artifact with its sha256.

Imports only ``bundler.core``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bundler.core.errors import InputError
from bundler.core.lock import Artifact, Lock

DELTA = "delta.json"
FORMAT = 1


@dataclass(frozen=True)
class Delta:
    since: str  # sha256 of the older lock
    packed: tuple[str, ...]
    base: Mapping[str, str]  # path -> sha256 expected from the older bundle

    def to_json(self) -> dict:
        return {"format": FORMAT, "since": self.since, "packed": list(self.packed), "base": dict(self.base)}


def delta_of(lock: Lock, old: Lock, since: str) -> Delta:
    """What a delta bundle of ``lock`` since ``old`` packs and expects."""
    had = {(a.path, a.sha256) for a in old.artifacts}
    packed = tuple(sorted(a.path for a in lock.artifacts if (a.path, a.sha256) not in had))
    base = {a.path: a.sha256 for a in lock.artifacts if a.path not in packed}
    return Delta(since, packed, base)


def packed_artifacts(lock: Lock, delta: Delta) -> tuple[Artifact, ...]:
    keep = set(delta.packed)
    return tuple(a for a in lock.artifacts if a.path in keep)


def packed_lock(lock: Lock, delta: Delta | None) -> Lock:
    """The lock as the payload holds it: all of it, or a delta's packed artifacts only."""
    return lock if delta is None else dataclasses.replace(lock, artifacts=packed_artifacts(lock, delta))


def write_delta(out_dir: Path, delta: Delta) -> Path:
    path = Path(out_dir) / DELTA
    path.write_text(json.dumps(delta.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_delta(bundle: Path) -> Delta | None:
    """The bundle's ``delta.json``, or None for a full bundle."""
    path = Path(bundle) / DELTA
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        delta = Delta(str(data["since"]), tuple(data["packed"]), dict(data["base"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: unreadable ({exc}); copy the bundle again") from None
    return delta


def payload_lock(bundle: Path, lock: Lock) -> Lock:
    """The lock the payload of ``bundle`` is checked against (``packed_lock`` of its delta, if any).

    An unreadable ``delta.json`` counts as none: ``SHA256SUMS`` names the edit, and the payload is
    held against the whole lock (every artifact it lacks is named)."""
    try:
        return packed_lock(lock, read_delta(bundle))
    except InputError:
        return lock


def missing_base(delta: Delta, extracted: Mapping[str, str]) -> list[str]:
    """The base artifacts the previous payload does not hold with the expected sha256."""
    return sorted(p for p, sha in delta.base.items() if extracted.get(p) != sha)
