"""apt's version policy: pin priorities and the candidate version of a package (apt_preferences(5)).

Every package file has a priority: 500, or 1 when its Release says ``NotAutomatic: yes`` (backports,
experimental), 100 with ``ButAutomaticUpgrades: yes`` too; the dpkg status file (the installed
version) has 100.  A version's priority is the first package-specific ``Package``/``Pin``/
``Pin-Priority`` stanza matching it, else the highest priority of the files it is in, where a
``Package: *`` stanza matching a file (``release a=,n=,o=,l=,c=,v=,b=``, ``origin HOST``) replaces
that file's default.  ``Policy.candidate`` is apt's ``pkgPolicy::GetCandidateVer`` (the classic
policy, apt 1.x to 3.x): the versions newest first, the first of the highest priority wins; once
the installed version is passed only a priority of 1000 or more (a downgrade) can replace it; a
negative priority is never a candidate.

``parse_preferences(text, where)`` reads ``/etc/apt/preferences`` and ``preferences.d/*`` files
(``debs.preferences`` in the spec, copied from the target).  Imports ``bundler.core`` only, and the
universe's ``Cand`` for typing.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bundler.core.deb.deb822 import parse_stanzas
from bundler.core.errors import InputError

if TYPE_CHECKING:
    from bundler.apt.release import Release
    from bundler.debs.universe import Cand

STATUS_PRIORITY = 100
DEFAULT_PRIORITY = 500
_RELEASE_KEYS = {"a": "Suite", "n": "Codename", "o": "Origin", "l": "Label", "v": "Version"}


@dataclass(frozen=True)
class PinRule:
    """One stanza of a preferences file."""

    packages: tuple[str, ...]  # names, globs, /regex/, or "*"
    kind: str  # "release" | "version" | "origin"
    terms: tuple[tuple[str, str], ...]  # release: (key, value) pairs; version/origin: (("", pattern),)
    priority: int
    where: str = ""

    @property
    def generic(self) -> bool:
        return self.packages == ("*",)

    def names_match(self, name: str) -> bool:
        for pat in self.packages:
            if pat.startswith("/") and pat.endswith("/") and len(pat) > 1:
                if re.search(pat[1:-1], name):
                    return True
            elif fnmatch.fnmatchcase(name, pat):
                return True
        return False

    def file_matches(self, release: Release | None, component: str, arch: str) -> bool:
        """Does this pin's release/origin match a package file (None: the dpkg status file)?"""
        if release is None:
            return False
        if self.kind == "origin":
            return _match(self.terms[0][1], urlsplit(release.root).hostname or "")
        if self.kind != "release":
            return False
        for key, want in self.terms:
            if key == "c":
                have = component
            elif key == "b":
                have = arch
            elif key in _RELEASE_KEYS:
                have = release.fields.get(_RELEASE_KEYS[key], "")
            else:
                return False
            if not _match(want, have):
                return False
        return True

    def version_matches(self, cand: Cand, arch: str) -> bool:
        if self.kind == "version":
            return _match(self.terms[0][1], cand.version)
        return any(self.file_matches(rel, comp, arch) for rel, comp in cand.files)


def _match(pattern: str, value: str) -> bool:
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        return re.search(pattern[1:-1], value) is not None
    return fnmatch.fnmatchcase(value, pattern)


def parse_preferences(text: str, where: str) -> list[PinRule]:
    """The stanzas of an apt preferences file; a malformed one is an ``InputError`` naming it."""
    rules = []
    for n, stanza in enumerate(parse_stanzas(text), 1):
        stanza = {k: v for k, v in stanza.items() if k.lower() != "explanation"}
        if not stanza:
            continue
        at = f"{where}: stanza {n}"
        missing = [k for k in ("Package", "Pin", "Pin-Priority") if k not in stanza]
        if missing:
            raise InputError(f"{at}: lacks {', '.join(missing)} (apt_preferences(5))")
        try:
            priority = int(stanza["Pin-Priority"].strip())
        except ValueError:
            raise InputError(f"{at}: Pin-Priority {stanza['Pin-Priority']!r} is not a number") from None
        kind, _, rest = stanza["Pin"].strip().partition(" ")
        rest = rest.strip()
        if kind == "release":
            terms = []
            for term in [t.strip() for t in rest.split(",") if t.strip()]:
                key, eq, value = term.partition("=")
                if not eq:  # "release bookworm": a bare value is the archive or codename (apt: a=)
                    key, value = "a", term
                if key.strip() not in (*_RELEASE_KEYS, "c", "b"):
                    raise InputError(f"{at}: Pin: release {term!r}: expected a=, n=, o=, l=, c=, v= or b=")
                terms.append((key.strip(), value.strip()))
            pin_terms = tuple(terms)
        elif kind in ("version", "origin"):
            pin_terms = (("", rest.strip('"')),)
        else:
            raise InputError(f"{at}: Pin {stanza['Pin']!r}: expected 'release …', 'version …' or 'origin …'")
        packages = tuple(stanza["Package"].split())
        if kind == "version" and packages == ("*",):
            raise InputError(f"{at}: a version pin needs package names, not '*'")
        rules.append(PinRule(packages, kind, pin_terms, priority, at))
    return rules


@dataclass
class Policy:
    """Priorities of package files and versions; ``candidate`` picks a package's candidate version."""

    rules: Sequence[PinRule] = ()
    arch: str = "amd64"
    _file_prio: dict[tuple[int, str], int] = field(default_factory=dict)

    def file_priority(self, release: Release | None, component: str) -> int:
        if release is None:
            return STATUS_PRIORITY
        key = (id(release), component)
        got = self._file_prio.get(key)
        if got is None:
            got = next(
                (r.priority for r in self.rules if r.generic and r.file_matches(release, component, self.arch)),
                None,
            )
            if got is None:
                got = release_default_priority(release)
            self._file_prio[key] = got
        return got

    def priority(self, cand: Cand, installed: bool = False) -> int:
        for rule in self.rules:
            if not rule.generic and rule.names_match(cand.name) and rule.version_matches(cand, self.arch):
                return rule.priority
        prios = [self.file_priority(rel, comp) for rel, comp in cand.files]
        if installed:
            prios.append(STATUS_PRIORITY)
        return max(prios) if prios else STATUS_PRIORITY

    def candidate(self, versions: Sequence[Cand], installed: Cand | None) -> Cand | None:
        """apt's GetCandidateVer over the archive versions (newest first) and the installed one."""
        ordered = list(versions)
        if installed is not None and not any(v.version == installed.version for v in ordered):
            ordered.append(installed)
            ordered.sort(key=lambda c: c.vkey, reverse=True)
        best: Cand | None = None
        top = -(2**31)
        for v in ordered:
            is_inst = installed is not None and v.version == installed.version
            prio = self.priority(v, is_inst)
            if prio > top:
                best, top = v, prio
            if is_inst and top < 1000:
                top = 999  # only a downgrade pin (>= 1000) overrides what is installed from now on
        if best is not None and top < 0:
            return None
        return best


def release_default_priority(release: Release) -> int:
    """500; 1 for ``NotAutomatic: yes``; 100 with ``ButAutomaticUpgrades: yes`` as well."""
    if release.fields.get("NotAutomatic", "").lower() == "yes":
        return 100 if release.fields.get("ButAutomaticUpgrades", "").lower() == "yes" else 1
    return DEFAULT_PRIORITY
