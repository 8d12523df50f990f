"""Splitting an install order of packages into ``dpkg -i`` calls that respect Pre-Depends: the one algorithm.

One ``dpkg -i`` call unpacks every file and configures them at the end, so a package whose
``Pre-Depends`` names another package of the same call fails ("pre-dependency problem: … is
unpacked, but has never been configured"), as python3-minimal does with python3.11-minimal.  apt
calls dpkg several times for this reason; so do we.  ``install_stages`` gives every package the
earliest stage after each of its pre-dependencies and no earlier than any of its dependencies (a
Depends cycle stays in one call, which dpkg handles; a Pre-Depends cycle, which dpkg cannot install
either, stops the search), and keeps the install order inside each stage.

It works on any records with ``name``, ``depends``, ``pre_depends`` (groups of ``Relation``) and
``provides`` (name -> version): the deb resolver passes its candidates at lock time and its
version-aware ``satisfies``; ``stages(debs)`` reads the records from the ``.deb`` files themselves
(``bundler.core.deb.control``), so the installer and the bootstrap need nothing but the bundle, and
matches relations by name and ``Provides``.  Imports only the standard library and ``bundler.core``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from bundler.core.deb.control import control_fields
from bundler.core.deb.deb822 import Relation, parse_provides, parse_relations


class Staged(Protocol):
    """What staging needs of a package (the deb resolver's ``Cand`` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def depends(self) -> list[list[Relation]]: ...
    @property
    def pre_depends(self) -> list[list[Relation]]: ...
    @property
    def provides(self) -> dict[str, str | None]: ...


P = TypeVar("P", bound=Staged)


@dataclass(frozen=True)
class DebRelations:
    """The relations of one ``.deb`` file, from its control stanza."""

    path: Path
    name: str
    depends: list[list[Relation]]
    pre_depends: list[list[Relation]]
    provides: dict[str, str | None]

    @classmethod
    def read(cls, deb: Path) -> DebRelations:
        f = control_fields(deb)
        return cls(
            deb,
            f.get("Package", ""),
            parse_relations(f.get("Depends")),
            parse_relations(f.get("Pre-Depends")),
            parse_provides(f.get("Provides")),
        )


def by_name(package: Staged, rel: Relation) -> bool:
    """Does ``package`` satisfy ``rel`` by its name or its Provides (versions not compared)?"""
    return package.name == rel.name or rel.name in package.provides


def install_stages(order: Sequence[P], satisfies: Callable[[P, Relation], bool] = by_name) -> list[list[P]]:
    """``order`` (dependencies first) cut into consecutive ``dpkg -i`` calls; see the module docstring."""
    providers: dict[str, list[int]] = {}
    for i, p in enumerate(order):
        for name in (p.name, *p.provides):
            providers.setdefault(name, []).append(i)

    def targets(groups: list[list[Relation]], owner: str) -> set[int]:
        return {
            j
            for group in groups
            for rel in group
            for j in providers.get(rel.name, ())
            if order[j].name != owner and satisfies(order[j], rel)
        }

    deps = [targets(p.depends, p.name) for p in order]
    pre = [targets(p.pre_depends, p.name) for p in order]
    stage = [0] * len(order)
    for _ in range(len(order) + 1):  # a fixpoint; a Pre-Depends cycle stops at the bound
        changed = False
        for i in range(len(order)):
            want = max([stage[d] for d in deps[i]] + [stage[q] + 1 for q in pre[i]] + [stage[i]])
            if want != stage[i] and want <= len(order):
                stage[i] = want
                changed = True
        if not changed:
            break
    groups = [[p for i, p in enumerate(order) if stage[i] == s] for s in range(max(stage, default=-1) + 1)]
    return [g for g in groups if g]


def stages(debs: Sequence[Path]) -> list[list[Path]]:
    """``debs`` (files, in install order) cut into ``dpkg -i`` calls, read from their control files."""
    return [[d.path for d in group] for group in install_stages([DebRelations.read(Path(d)) for d in debs])]
