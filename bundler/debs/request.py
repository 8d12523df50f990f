"""What ``apt-get install`` is asked for: ``name``, ``name=version``, ``name/suite``, ``name:arch``.

``parse_wanted(text)`` splits one request; ``mark_request(resolver, packages)`` does what apt-get does
with the list: a virtual name with one provider selects it, ``=version`` makes that version the
candidate, ``/suite`` the version from the release whose ``Suite`` or ``Codename`` is ``suite`` (and,
like apt's ``SetCandidateRelease``, a dependency the default candidates cannot satisfy takes its
version from that release too), ``:arch`` other than the target's (or ``all``) is "unable to locate"
(the sources are read for the target's architecture only).  Then every named package is marked and
each one's dependencies resolved in order; a failure is a ``ResolutionError`` naming the chain.

Imports ``bundler.core`` and the other ``bundler.debs`` modules.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bundler.core.errors import ResolutionError
from bundler.debs.universe import Cand, satisfies

if TYPE_CHECKING:
    from bundler.debs.marking import Resolver

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Wanted:
    """One request as apt-get reads it."""

    text: str
    name: str
    version: str | None = None
    suite: str | None = None
    arch: str | None = None


def parse_wanted(text: str) -> Wanted:
    rest, _, version = text.partition("=")
    rest, _, suite = rest.partition("/")
    name, _, arch = rest.partition(":")
    return Wanted(text, name, version or None, suite or None, arch or None)


def mark_request(r: Resolver, packages: Sequence[str], labels: Sequence[str] = ()) -> list[str]:
    """apt-get install PACKAGES: mark all, then resolve each one's dependencies in order.  Every
    package that cannot be located is reported at once (apt's one run, not one per fix), each with
    its label and a "did you mean" from the sources' names."""
    names, unknown = [], []
    for i, text in enumerate(packages):
        try:
            names.append(_locate(r, parse_wanted(text)))
        except ResolutionError as exc:
            label = labels[i] if i < len(labels) else ""
            unknown.append(f"{label}: {exc}" if label else str(exc))
    if len(unknown) == 1:
        raise ResolutionError(unknown[0])
    if unknown:
        raise ResolutionError(f"{len(unknown)} requested packages cannot be installed:\n  " + "\n  ".join(unknown))
    todo = []
    for name in names:
        cand = r.candidate(name)
        cur = r.u.installed.get(name)
        if cur is not None and cand is not None and cand.version == cur.version:
            log.info("%s is already the newest version (%s)", name, cur.version)
            continue
        if cand is None:
            raise ResolutionError(f"package {name} has no installation candidate (pinned below 0?)")
        r.marked[name] = cand
        todo.append(name)
    for name in todo:
        before = len(r.failures)
        if not r.mark_install(name, from_user=True):
            why = r.failures[before] if len(r.failures) > before else "no installable candidate"
            raise ResolutionError(f"cannot install {name}: {why}")
    return names


def _locate(r: Resolver, w: Wanted) -> str:
    """The package one request names, with its version or release pinned as asked."""
    if w.arch is not None and w.arch not in (r.u.arch, "all", "any", "native"):
        raise ResolutionError(
            f"unable to locate package {w.text}: the sources are read for {r.u.arch} only"
            f" (the target's architecture); {w.arch} is not among them"
        )
    name = real_name(r, w.name)
    if w.version:
        pin_version(r, name, w.version)
    elif w.suite:
        pin_release(r, name, w.suite)
    return name


def real_name(r: Resolver, name: str) -> str:
    if r.u.versions(name) or name in r.u.installed:
        return name
    provs = [p for p in r.u.providers(name) if r.candidate(p) is not None]
    if len(provs) == 1:
        log.info("selecting %s instead of the virtual package %s", provs[0], name)
        return provs[0]
    if provs:
        raise ResolutionError(
            f"package {name} is a virtual package provided by {', '.join(sorted(provs))}: name one of them"
        )
    others = sorted(n for n in r.u.names() if n != name)
    close = [n for n in difflib.get_close_matches(name, others, n=6, cutoff=0.75) if r.u.versions(n)][:3]
    hint = f"; did you mean {' or '.join(close)}?" if close else "; check the name and the sources"
    raise ResolutionError(
        f"package {name} is not in any configured apt source (apt: unable to locate package {name}{hint})"
    )


def pin_version(r: Resolver, name: str, version: str) -> None:
    for v in r.u.versions(name):
        if v.version == version:
            r.cand_override[name] = v
            return
    cur = r.u.installed.get(name)
    if cur is not None and cur.version == version:
        r.cand_override[name] = cur
        return
    have = ", ".join(v.version for v in r.u.versions(name)) or "none"
    raise ResolutionError(f"package {name}: version {version} is not available (available: {have})")


def in_release(cand: Cand, suite: str) -> bool:
    return any(suite in (rel.suite, rel.fields.get("Suite"), rel.fields.get("Codename")) for rel, _ in cand.files)


def pin_release(r: Resolver, name: str, suite: str) -> None:
    got = next((v for v in r.u.versions(name) if in_release(v, suite)), None)
    if got is None:
        suites = sorted({rel.suite for v in r.u.versions(name) for rel, _ in v.files})
        raise ResolutionError(
            f"release {suite!r} for {name} is not found (it is in: {', '.join(suites) or 'no configured source'})"
        )
    r.cand_override[name] = got
    _candidates_from_release(r, got, suite, set())


def _candidates_from_release(r: Resolver, cand: Cand, suite: str, seen: set[str]) -> None:
    """apt's SetCandidateRelease: an unsatisfiable dependency takes its version from ``suite``."""
    if cand.name in seen:
        return
    seen.add(cand.name)
    groups = cand.depends + (cand.recommends if r.with_recommends else [])
    for group in groups:
        if any(_ok_now(r, rel) for rel in group):
            continue
        for rel in group:
            alt = next((v for v in r.u.versions(rel.name) if in_release(v, suite) and satisfies(v, rel)), None)
            if alt is not None:
                r.cand_override[rel.name] = alt
                _candidates_from_release(r, alt, suite, seen)
                break


def _ok_now(r: Resolver, rel) -> bool:
    """Satisfied by what is installed or by the current candidate of the package or of a provider."""
    for n in (rel.name, *r.u.providers(rel.name)):
        for c in (r.u.installed.get(n), r.candidate(n)):
            if c is not None and satisfies(c, rel):
                return True
    return False
