"""The gem resolver: a thin resolvelib provider that honours the target's Ruby and RubyGems.

How the pieces relate (after pip's resolvelib provider): the resolver works on *requirements*
(``GemRequirement``: a gem name, a ``Gem::Requirement`` and who asked) and *candidates*
(``GemCandidate``: one release for one platform, an ``IndexEntry`` of the ``CompactIndex``).  The
target's Ruby and RubyGems (a ``RubyTarget``, with the gem platforms it accepts) are pseudo-gems
named ``<ruby>`` and ``<rubygems>`` with a single candidate each (the target versions); every
candidate lists its ``ruby:``/``rubygems:`` requirements as dependencies, first, so a release that
needs a newer Ruby is rejected as soon as it is tried and the next older one is taken, exactly like
pip's ``Requires-Python``.  ``GemProvider`` only answers resolvelib's questions; candidates come
newest first (a platform-specific build before the ``ruby`` one of the same version), prereleases
only when a requirement names one (``Gem::Dependency#match?``).  ``resolve_gems`` runs it; when no
set of versions fits, ``explain`` turns resolvelib's causes into one message naming each
requirement that cannot hold together and who asked for it.

Imports ``bundler.core``, ``bundler.gems.compactindex`` and resolvelib.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from bundler.core.errors import InputError, ResolutionError
from bundler.core.gem.version import Requirement, Version
from bundler.gems.compactindex import GEM_NAME, CompactIndex, IndexEntry

RUBY = "<ruby>"
RUBYGEMS = "<rubygems>"
MAX_ROUNDS = 20000


@dataclass(frozen=True)
class RubyTarget:
    """What the gems must run on: the target's Ruby and RubyGems, and the platforms it accepts."""

    ruby: Version
    rubygems: Version | None  # None: the gems' rubygems requirements are not checked
    platforms: tuple[str, ...] = ("ruby", "x86_64-linux")


@dataclass(frozen=True)
class GemRequirement:
    name: str  # a gem name, or RUBY / RUBYGEMS
    requirement: Requirement
    asked_by: str  # "the request" or "NAME VERSION[-PLATFORM]"

    def __str__(self) -> str:
        shown = {RUBY: "ruby", RUBYGEMS: "rubygems"}.get(self.name, self.name)
        return f"{shown} {self.requirement}"


@dataclass(frozen=True)
class GemCandidate:
    entry: IndexEntry | None  # None for the <ruby>/<rubygems> pseudo-candidates
    name: str
    version: Version

    @property
    def platform(self) -> str:
        return self.entry.platform if self.entry else "ruby"

    def __str__(self) -> str:
        return self.entry.full_name if self.entry else f"{self.name.strip('<>')} {self.version}"


def platform_matches(platform: str, accepted: Sequence[str]) -> bool:
    """``Gem::Platform#===`` for the names we meet: same cpu (or universal) and os; an os version
    (``linux-gnu``, ``darwin-19``) only has to agree when both sides give one."""
    if platform in accepted:
        return True
    parts = platform.split("-")
    if len(parts) < 2:
        return False
    for want in accepted:
        w = want.split("-")
        if len(w) < 2:
            continue
        cpu_ok = parts[0] == w[0] or "universal" in (parts[0], w[0])
        ver_ok = len(parts) == 2 or len(w) == 2 or parts[2:] == w[2:]
        if cpu_ok and parts[1] == w[1] and ver_ok:
            return True
    return False


class GemProvider(AbstractProvider):
    """Answers resolvelib's questions from a ``CompactIndex`` for one ``RubyTarget``."""

    def __init__(self, index: CompactIndex, target: RubyTarget) -> None:
        self.index = index
        self.target = target
        self._pseudo = {
            RUBY: GemCandidate(None, RUBY, target.ruby),
            RUBYGEMS: GemCandidate(None, RUBYGEMS, target.rubygems or Version("0")),
        }
        self._candidates: dict[str, list[GemCandidate]] = {}

    def identify(self, requirement_or_candidate: GemRequirement | GemCandidate) -> str:
        return requirement_or_candidate.name

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, GemCandidate],
        candidates: Mapping[str, Iterator[GemCandidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> tuple[bool, bool, bool, str]:
        # (pseudo-gems first: they fail fast and explain themselves; then exact pins; then the gems
        #  that caused the last backtrack; then by name, so the result does not depend on order)
        pinned = any(
            op == "=" for info in information[identifier] for op, _ in info.requirement.requirement.constraints
        )
        causes = {c.requirement.name for c in backtrack_causes} | {c.parent.name for c in backtrack_causes if c.parent}
        return (identifier not in self._pseudo, not pinned, identifier not in causes, identifier)

    def _all_candidates(self, name: str) -> list[GemCandidate]:
        if name not in self._candidates:
            accepted = self.target.platforms
            listed = [p for p in accepted if p != "ruby"]

            def platform_rank(e: IndexEntry) -> tuple[int, int]:
                # a build for a listed platform (in the spec's order), then other matching builds, then ruby
                if e.platform == "ruby":
                    return (2, 0)
                return (0, listed.index(e.platform)) if e.platform in listed else (1, 0)

            entries = [e for e in self.index.info(name) if platform_matches(e.platform, accepted)]
            entries.sort(key=platform_rank)
            entries.sort(key=lambda e: e.version, reverse=True)  # stable: newest first, platform order kept
            self._candidates[name] = [GemCandidate(e, name, e.version) for e in entries]
        return self._candidates[name]

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[GemRequirement]],
        incompatibilities: Mapping[str, Iterator[GemCandidate]],
    ) -> list[GemCandidate]:
        reqs = [r.requirement for r in requirements[identifier]]
        bad = {(c.version.text, c.platform) for c in incompatibilities[identifier]}
        pool = [self._pseudo[identifier]] if identifier in self._pseudo else self._all_candidates(identifier)
        allow_pre = any(r.prerelease for r in reqs) or identifier in self._pseudo
        return [
            c
            for c in pool
            if (c.version.text, c.platform) not in bad
            and (allow_pre or not c.version.prerelease)
            and all(r.satisfied_by(c.version) for r in reqs)
        ]

    def is_satisfied_by(self, requirement: GemRequirement, candidate: GemCandidate) -> bool:
        return requirement.name == candidate.name and requirement.requirement.satisfied_by(candidate.version)

    def get_dependencies(self, candidate: GemCandidate) -> list[GemRequirement]:
        e = candidate.entry
        if e is None:
            return []
        asked_by = str(candidate)
        deps = []
        if e.ruby is not None:
            deps.append(GemRequirement(RUBY, e.ruby, asked_by))
        if e.rubygems is not None and self.target.rubygems is not None:
            deps.append(GemRequirement(RUBYGEMS, e.rubygems, asked_by))
        deps += [GemRequirement(n, r, asked_by) for n, r in e.dependencies]
        runs_here = (e.ruby is None or e.ruby.satisfied_by(self.target.ruby)) and (
            e.rubygems is None or self.target.rubygems is None or e.rubygems.satisfied_by(self.target.rubygems)
        )
        if runs_here:  # resolvelib will ask for each of these next
            self.index.prefetch(n for n, _ in e.dependencies)
        return deps


def _check_requests(provider: GemProvider, roots: list[GemRequirement], labels: Mapping[str, str]) -> None:
    """Each requested gem that does not exist, or of which no release fits the request, all at once."""
    index, problems = provider.index, []
    for r in roots:
        if not index.exists(r.name):
            close = difflib.get_close_matches(r.name, list(index.versions()), n=3, cutoff=0.8)
            hint = f"; did you mean {' or '.join(close)}?" if close else "; check the name and the source"
            problem = f"gem {r.name!r} does not exist on {index.source} (requested as '{r}'){hint}"
        elif not provider.find_matches(r.name, {r.name: iter([r])}, {r.name: iter(())}):
            problem = "cannot resolve the gems: " + _no_release(
                r.name, f"{r} (required by {r.asked_by})", index, provider.target
            )
        else:
            continue
        problems.append(f"{labels[r.name]}: {problem}" if r.name in labels else problem)
    if len(problems) == 1:
        raise ResolutionError(problems[0])
    if problems:
        raise ResolutionError(f"{len(problems)} requested gems cannot be installed:\n  " + "\n  ".join(problems))


def _no_release(name: str, asked: str, index: CompactIndex, target: RubyTarget) -> str:
    versions = ", ".join(e.full_name.removeprefix(f"{name}-") for e in index.info(name)[-8:])
    platforms = ", ".join(target.platforms)
    return f"no release of {name} fits {asked}; the source has {versions} (platforms accepted: {platforms})"


@dataclass(frozen=True)
class Resolved:
    """The chosen release of each gem and the edges between them."""

    gems: tuple[IndexEntry, ...]  # sorted by name
    install_order: tuple[str, ...]  # names, dependencies before the gems that need them


def explain(causes: Iterable[Any], index: CompactIndex, target: RubyTarget) -> str:
    """One message naming every requirement that cannot hold together, and who asked for it."""
    by_name: dict[str, list[GemRequirement]] = {}
    for info in causes:
        req = info.requirement
        if req not in by_name.setdefault(req.name, []):
            by_name[req.name].append(req)
    sentences = []
    for name, reqs in sorted(by_name.items(), key=lambda kv: (kv[0] not in (RUBY, RUBYGEMS), kv[0])):
        asked = "; ".join(f"{r} (required by {r.asked_by})" for r in reqs)
        if name in (RUBY, RUBYGEMS):
            what, have = ("Ruby", target.ruby) if name == RUBY else ("RubyGems", target.rubygems)
            sentences.append(f"the target's {what} is {have}, but: {asked}")
        elif not index.exists(name):
            sentences.append(f"gem {name!r} does not exist on {index.source} ({asked})")
        elif len(reqs) == 1:
            sentences.append(_no_release(name, asked, index, target))
        else:
            sentences.append(f"these cannot all hold: {asked}")
    return "cannot resolve the gems: " + " | ".join(sentences)


def resolve_gems(
    index: CompactIndex,
    requests: Iterable[tuple[str, str]],
    target: RubyTarget,
    reporter: BaseReporter | None = None,
    labels: Mapping[str, str] | None = None,
) -> Resolved:
    """Resolve ``(name, requirement)`` requests; raises ``ResolutionError`` explaining a conflict.

    Every requested gem the source lacks, or has no release of that fits its requirement, is reported
    at once, each with its ``labels`` entry (its place in the spec) and a "did you mean"."""
    roots = []
    for name, text in requests:
        if not GEM_NAME.match(name):
            raise InputError(f"{name!r} is not a gem name")
        try:
            requirement = Requirement.parse(text or ">= 0")
        except InputError as exc:
            raise InputError(f"gem request {name}:{text}: {exc}") from None
        roots.append(GemRequirement(name, requirement, "the request"))
    provider = GemProvider(index, target)
    _check_requests(provider, roots, labels or {})
    resolver = Resolver(provider, reporter or BaseReporter())
    try:
        result = resolver.resolve(roots, max_rounds=MAX_ROUNDS)
    except ResolutionImpossible as exc:
        raise ResolutionError(explain(exc.causes, index, target)) from None
    except ResolutionTooDeep as exc:
        raise ResolutionError(f"gave up resolving the gems after {exc.round_count} rounds") from None
    chosen = {n: c.entry for n, c in result.mapping.items() if c.entry is not None}
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep, _ in chosen[name].dependencies:
            visit(dep)
        order.append(name)

    for name in sorted(chosen):
        visit(name)
    return Resolved(tuple(chosen[n] for n in sorted(chosen)), tuple(order))
