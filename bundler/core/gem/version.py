"""RubyGems' version rules in Python: ``Gem::Version`` and ``Gem::Requirement``, faithfully.

A gem version is a dotted string of numbers and letters; any letter makes it a *prerelease*
(``1.0.a`` < ``1.0``).  ``-`` is read as ``.pre.`` (``1.0-rc1`` is ``1.0.pre.rc1``).  Versions
compare by their *canonical segments*: the string is cut into runs of digits (numbers) and runs of
letters (strings); trailing zeros of the numeric head and of the tail are dropped, so ``1.0`` equals
``1`` and ``1.0.a`` equals ``1.a``; a string segment sorts before any number.  A requirement is a
list of ``OP VERSION`` constraints that must all hold; ``~> 1.2.3`` means ``>= 1.2.3`` and
release ``< 1.3`` (the *bump*: drop letters and the last number, add one to the new last).

Like ``Gem::Requirement#satisfied_by?``, ``Requirement.satisfied_by`` does not look at prerelease
status: whether prereleases are candidates at all is the resolver's decision (``allows_prerelease``,
as in ``Gem::Dependency#match?``).  The tests check every rule against the real ``gem`` library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from bundler.core.errors import InputError

_WS = "[ \t\r\n\f\v]"
VERSION_PATTERN = r"[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
_ANCHORED_VERSION = re.compile(rf"\A{_WS}*({VERSION_PATTERN})?{_WS}*\Z")
OPS = ("=", "!=", ">", "<", ">=", "<=", "~>")
_REQUIREMENT = re.compile(rf"\A{_WS}*(!=|>=|<=|~>|=|>|<)?{_WS}*({VERSION_PATTERN}){_WS}*\Z")
_SEGMENT = re.compile(r"[0-9]+|[A-Za-z]+")

Segment = int | str


def is_correct(text: str) -> bool:
    """``Gem::Version.correct?``: is ``text`` a well-formed version (blank counts as ``0``)?"""
    return _ANCHORED_VERSION.match(text) is not None


def _compare_segments(a: Segment, b: Segment) -> int:
    if a == b:
        return 0
    if isinstance(a, str) and isinstance(b, int):
        return -1
    if isinstance(a, int) and isinstance(b, str):
        return 1
    return -1 if a < b else 1  # type: ignore[operator]  # same type here


@total_ordering
class Version:
    """An immutable ``Gem::Version``; equal when canonically equal (``1.0 == 1``), as in Ruby."""

    __slots__ = ("text", "segments", "canonical")

    def __init__(self, text: str | int) -> None:
        text = str(text)
        if not is_correct(text):
            raise InputError(f"malformed gem version {text!r}")
        stripped = text.strip(" \t\r\n\f\v") or "0"
        self.text: str = stripped.replace("-", ".pre.")
        self.segments: tuple[Segment, ...] = tuple(int(s) if s.isdigit() else s for s in _SEGMENT.findall(self.text))
        first_string = next((i for i, s in enumerate(self.segments) if isinstance(s, str)), len(self.segments))
        self.canonical: tuple[Segment, ...] = _drop_trailing_zeros(self.segments[:first_string]) + _drop_trailing_zeros(
            self.segments[first_string:]
        )

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, name):
            raise AttributeError("Version is immutable")
        object.__setattr__(self, name, value)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Version({self.text!r})"

    @property
    def prerelease(self) -> bool:
        return any(c.isalpha() for c in self.text)

    def release(self) -> Version:
        """The version without its letter segments and what follows (``1.2.b3`` -> ``1.2``)."""
        if not self.prerelease:
            return self
        segments = list(self.segments)
        while any(isinstance(s, str) for s in segments):
            segments.pop()
        return Version(".".join(str(s) for s in segments))

    def bump(self) -> Version:
        """The upper bound of ``~>``: drop letters, then the last number, add one (``1.2.3`` -> ``1.3``)."""
        segments = list(self.segments)
        while any(isinstance(s, str) for s in segments):
            segments.pop()
        if len(segments) > 1:
            segments.pop()
        segments[-1] = int(segments[-1]) + 1
        return Version(".".join(str(s) for s in segments))

    def compare(self, other: Version) -> int:
        if self.text == other.text or self.canonical == other.canonical:
            return 0
        lhs, rhs = self.canonical, other.canonical
        for i in range(max(len(lhs), len(rhs))):
            a = lhs[i] if i < len(lhs) else 0
            b = rhs[i] if i < len(rhs) else 0
            c = _compare_segments(a, b)
            if c:
                return c
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.compare(other) == 0

    def __lt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.compare(other) < 0

    def __hash__(self) -> int:
        return hash(self.canonical)


def _drop_trailing_zeros(segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
    end = len(segments)
    while end and segments[end - 1] == 0:
        end -= 1
    return segments[:end]


def _holds(op: str, v: Version, r: Version) -> bool:
    if op == "=":
        return v == r
    if op == "!=":
        return v != r
    if op == ">":
        return v > r
    if op == "<":
        return v < r
    if op == ">=":
        return v >= r
    if op == "<=":
        return v <= r
    return v >= r and v.release() < r.bump()  # "~>"


@dataclass(frozen=True)
class Requirement:
    """A ``Gem::Requirement``: constraints that must all hold (none means ``>= 0``)."""

    constraints: tuple[tuple[str, Version], ...]

    @classmethod
    def parse(cls, *texts: str) -> Requirement:
        """From constraint strings; each may itself list constraints joined by ``,`` or ``&``
        (the compact index joins a dependency's constraints with ``&``, a gemspec prints them with
        ``, ``).  Raises ``InputError`` for a malformed one."""
        constraints: list[tuple[str, Version]] = []
        for text in texts:
            for part in re.split(r"[,&]", text):
                m = _REQUIREMENT.match(part)
                if m is None:
                    raise InputError(f"malformed gem requirement {part.strip()!r} (in {text!r})")
                constraint = (m.group(1) or "=", Version(m.group(2)))
                if constraint not in constraints:
                    constraints.append(constraint)
        return cls(tuple(constraints) or ((">=", Version("0")),))

    def satisfied_by(self, version: Version) -> bool:
        return all(_holds(op, version, r) for op, r in self.constraints)

    @property
    def prerelease(self) -> bool:
        """Does a constraint name a prerelease (which lets prereleases be chosen)?"""
        return any(r.prerelease for _, r in self.constraints)

    @property
    def none(self) -> bool:
        return self.constraints == ((">=", Version("0")),)

    def allows(self, version: Version, allow_prerelease: bool = False) -> bool:
        """``Gem::Dependency#match?``: prereleases only when asked for or named by the requirement."""
        if version.prerelease and not (allow_prerelease or self.prerelease):
            return False
        return self.satisfied_by(version)

    def __str__(self) -> str:
        return ", ".join(f"{op} {v}" for op, v in self.constraints)

    def __and__(self, other: Requirement) -> Requirement:
        merged = list(self.constraints)
        merged += [c for c in other.constraints if c not in merged]
        return Requirement(tuple(merged))
