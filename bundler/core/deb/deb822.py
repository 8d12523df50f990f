"""The one deb822 reader and the one relation parser, for every Debian control-format text we read.

deb822 (``man 5 deb822``): stanzas separated by blank lines; ``Field: value`` lines; a line starting
with a space or tab continues the field above; ``#`` lines are comments.  Packages and Sources
indexes, the dpkg status file, a Release file, the control file of a ``.deb`` and apt's ``*.sources``
files are all read here (as aptly has one control-file reader for all of them).

- ``split_stanzas(text)``: the raw stanza texts, cut at blank lines (empty, or only spaces and tabs,
  as Debian policy lets parsers accept) with no per-field work, so that a 50 MB Packages file splits
  in a fraction of a second; ``field_value(stanza, name)`` reads one single-line field of a raw stanza.
- ``parse_stanza(text)``: one stanza into a dict; values exactly as in the text, stripped; a
  multi-line field keeps its continuation lines joined by ``\\n`` with the one leading space or tab
  removed (its first line may be empty, as for ``Checksums-Sha256``).  ``parse_stanzas(text)``:
  every non-empty stanza of a file, parsed.
- ``parse_relations(value)``: a ``Depends``-style field into groups of alternatives of ``Relation``;
  ``parse_provides(value)``: a ``Provides`` field into name -> version (for ``name (= version)``).

Used by the connected side (bundler.apt, bundler.debs) and the offline side (bundler.core.deb) alike,
so it imports nothing but the standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLANKISH = re.compile(r"\n[ \t]+(?=\n)")


def split_stanzas(text: str) -> list[str]:
    """A deb822 file into stanza texts (blank-line separated); fast: no per-field work."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if _BLANKISH.search(text):
        text = _BLANKISH.sub("\n", text)
    return [s for s in text.split("\n\n") if s.strip()]


def field_value(stanza: str, name: str) -> str | None:
    """The single-line value of ``name`` in a raw stanza, without parsing the whole stanza."""
    if stanza.startswith(name + ":"):
        start = len(name) + 1
    else:
        i = stanza.find("\n" + name + ":")
        if i < 0:
            return None
        start = i + len(name) + 2
    end = stanza.find("\n", start)
    return stanza[start : end if end >= 0 else len(stanza)].strip()


def parse_stanza(text: str) -> dict[str, str]:
    """One deb822 stanza into a dict; continuation lines are joined with newlines (leading blank kept)."""
    out: dict[str, str] = {}
    key = None
    for line in text.split("\n"):
        if not line:
            continue
        if line[0] in " \t":
            if key is not None:
                out[key] += "\n" + line[1:]
            continue
        if line[0] == "#":
            continue
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def parse_stanzas(text: str) -> list[dict[str, str]]:
    """Every stanza of a deb822 file that has a field (a stanza of only comments is none), in order."""
    return [fields for chunk in split_stanzas(text) if (fields := parse_stanza(chunk))]


@dataclass(frozen=True)
class Relation:
    """One alternative of a relation field: ``name[:arch] (op version)``; op is one of << <= = >= >>."""

    name: str
    op: str | None = None
    version: str | None = None
    arch: str | None = None  # ":any", ":native", ":amd64" qualifier

    def __str__(self) -> str:
        n = f"{self.name}:{self.arch}" if self.arch else self.name
        return f"{n} ({self.op} {self.version})" if self.op else n


_REL = re.compile(
    r"^\s*([^\s(\[<:]+)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^)\s]+)\s*\))?\s*(\[[^]]*\])?"
)


def parse_relations(value: str | None) -> list[list[Relation]]:
    """``a (>= 1) | b, c`` -> [[a>=1, b], [c]].  Architecture restrictions (``[amd64]``) are dropped;
    binary Packages never carry them.  Old-style ``<`` and ``>`` mean ``<=`` and ``>=``."""
    if not value:
        return []
    out = []
    for group in value.split(","):
        alts = []
        for alt in group.split("|"):
            m = _REL.match(alt)
            if not m or not m.group(1):
                continue
            op = {"<": "<=", ">": ">="}.get(m.group(3), m.group(3))
            alts.append(Relation(m.group(1), op, m.group(4), m.group(2)))
        if alts:
            out.append(alts)
    return out


def parse_provides(value: str | None) -> dict[str, str | None]:
    """``Provides``: virtual name -> the version it is provided at (``v (= 2)``), or None when unversioned."""
    return {r.name: r.version if r.op == "=" else None for group in parse_relations(value) for r in group}


def relation_names(value: str | None) -> set[str]:
    """Package names in a relation field: ``a (>= 1) | b:any, c`` -> {a, b, c}."""
    return {r.name for group in parse_relations(value) for r in group}
