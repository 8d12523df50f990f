"""Differences between two locks: added, removed and changed artifacts (groundwork for delta bundles).

Artifacts are matched by ``(kind, name)`` when that is unique on both sides (a new version of a
package is a change, not an add and a remove), otherwise by their path in the payload (gems with
several platforms, debs of several architectures).

Imports only ``bundler.core.lock``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bundler.core.lock import Artifact, Lock

_FIELDS = ("version", "url", "size", "sha256", "trust", "path")


@dataclass(frozen=True)
class Change:
    old: Artifact
    new: Artifact

    @property
    def fields(self) -> list[str]:
        return [f for f in _FIELDS if getattr(self.old, f) != getattr(self.new, f)] + (
            ["meta"] if dict(self.old.meta) != dict(self.new.meta) else []
        )


@dataclass(frozen=True)
class LockDiff:
    added: tuple[Artifact, ...]
    removed: tuple[Artifact, ...]
    changed: tuple[Change, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict:
        return {
            "added": [a.to_json() for a in self.added],
            "removed": [a.to_json() for a in self.removed],
            "changed": [
                {
                    "kind": c.new.kind,
                    "name": c.new.name,
                    "fields": c.fields,
                    "old": c.old.to_json(),
                    "new": c.new.to_json(),
                }
                for c in self.changed
            ],
        }


def diff_locks(old: Lock, new: Lock) -> LockDiff:
    def groups(lock: Lock) -> dict[tuple[str, str], list[Artifact]]:
        out: dict[tuple[str, str], list[Artifact]] = defaultdict(list)
        for a in lock.artifacts:
            out[(a.kind, a.name)].append(a)
        return out

    old_g, new_g = groups(old), groups(new)
    added: list[Artifact] = []
    removed: list[Artifact] = []
    changed: list[Change] = []
    for key in sorted(set(old_g) | set(new_g)):
        olds, news = old_g.get(key, []), new_g.get(key, [])
        if len(olds) == 1 and len(news) == 1:
            if olds[0] != news[0]:
                changed.append(Change(olds[0], news[0]))
            continue
        old_by_path = {a.path: a for a in olds}
        new_by_path = {a.path: a for a in news}
        for path in sorted(set(old_by_path) | set(new_by_path)):
            o, n = old_by_path.get(path), new_by_path.get(path)
            if o is None:
                added.append(n)
            elif n is None:
                removed.append(o)
            elif o != n:
                changed.append(Change(o, n))
    return LockDiff(tuple(added), tuple(removed), tuple(changed))
