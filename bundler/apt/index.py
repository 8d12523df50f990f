"""A parsed Packages or Sources index (or a dpkg status file): raw stanzas grouped by ``Package`` name.

``build_index(text, url, sha256)`` splits the text into stanzas with the one deb822 reader
(``bundler.core.deb.deb822``) and looks only at the ``Package`` and ``Provides`` lines up front; a
stanza is parsed into a dict when asked for (``Index.get``).  The index is held compactly: the raw
stanzas as one bytes blob (memory-mapped when loaded from the cache), the stanza bounds, a sorted name
table looked up by bisection, and the providers of each virtual name.  ``store``/``load`` write and
read that layout (``CACHE_FORMAT``) with ``marshal``; the client names the files by the sha256 of the
downloaded index.  python-debian's deb822 parser takes ~6 s on Debian main; building this index takes
well under a second and loading it from the cache a few hundredths (see bench/resolve.py).

    idx.get("ruby3.1")      # -> [dict field -> value], one per stanza, in file order
    idx.names()             # every "Package" name
    idx.providers("awk")    # names whose Provides lists it

Imports only the standard library and ``bundler.core``.
"""

from __future__ import annotations

import bisect
import marshal
import mmap
import os
from array import array
from collections.abc import Iterable
from pathlib import Path

from bundler.core.deb.deb822 import field_value, parse_provides, parse_stanza, split_stanzas

CACHE_FORMAT = 6  # bump when the stored layout changes


class Index:
    """A parsed Packages or Sources index: raw stanzas grouped by ``Package`` name.

    Stored compactly (one bytes blob, memory-mapped from the cache; stanza boundaries; a name table) so
    that loading Debian main from the cache costs a few hundredths of a second; stanzas are decoded and
    parsed only when asked for."""

    def __init__(
        self,
        url: str,
        sha256: str,
        blob: bytes | mmap.mmap,
        bounds: array,
        names: list[str],
        first: array,
        provides: tuple[list[str], list[str]],
    ) -> None:
        self.url = url
        self.sha256 = sha256
        self._blob = blob
        self._bounds = bounds  # stanza k is blob[bounds[k]:bounds[k + 1]]
        self._names = names  # sorted: looked up by bisection (building a dict would cost more than the lookups)
        self._first = first  # stanzas of names[i] are first[i] .. first[i + 1] - 1
        self._prov_keys, self._prov_vals = provides  # sorted virtual names; providers joined by spaces
        self._parsed: dict[str, list[dict[str, str]]] = {}

    def names(self) -> Iterable[str]:
        return self._names

    def _find(self, name: str) -> int | None:
        i = bisect.bisect_left(self._names, name)
        return i if i < len(self._names) and self._names[i] == name else None

    def __contains__(self, name: str) -> bool:
        return self._find(name) is not None

    def raw(self, name: str) -> list[str]:
        i = self._find(name)
        if i is None:
            return []
        b, blob = self._bounds, self._blob
        return [
            blob[b[k] : b[k + 1]].decode("utf-8", errors="replace") for k in range(self._first[i], self._first[i + 1])
        ]

    def names_with_line(self, *lines: str) -> list[str]:
        """Names of packages with a stanza containing one of these exact lines (e.g. ``Priority: required``),
        found by scanning the raw index with ``bytes.find`` rather than by parsing every stanza."""
        out: dict[str, None] = {}
        bounds, first, blob = self._bounds, self._first, self._blob
        for line in lines:
            needle = ("\n" + line + "\n").encode()
            pos = blob.find(needle)
            while pos >= 0:
                k = bisect.bisect_right(bounds, pos + 1) - 1
                i = bisect.bisect_right(first, k) - 1
                if 0 <= i < len(self._names):
                    out[self._names[i]] = None
                pos = blob.find(needle, pos + 1)
        return list(out)

    def get(self, name: str) -> list[dict[str, str]]:
        got = self._parsed.get(name)
        if got is None:
            got = [parse_stanza(s) for s in self.raw(name)]
            self._parsed[name] = got
        return got

    def providers(self, virtual: str) -> list[str]:
        keys = self._prov_keys
        i = bisect.bisect_left(keys, virtual)
        return self._prov_vals[i].split(" ") if i < len(keys) and keys[i] == virtual else []

    def store(self, blob_path: Path, meta_path: Path) -> None:
        """Write the blob and the tables (atomically, each) for ``load``."""
        for path, write in (
            (blob_path, lambda fh: fh.write(self._blob)),
            (meta_path, lambda fh: marshal.dump((self._bounds.tobytes(), "\n".join(self._names),
                self._first.tobytes(), "\n".join(self._prov_keys), "\n".join(self._prov_vals)), fh)),
        ):  # fmt: skip
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                write(fh)
            os.replace(tmp, path)

    @classmethod
    def load(cls, url: str, sha256: str, blob_path: Path, meta_path: Path) -> Index:
        with open(meta_path, "rb") as fh:
            bounds_b, names, first_b, prov_keys, prov_vals = marshal.load(fh)
        bounds, first = array("Q", bounds_b), array("Q", first_b)
        with open(blob_path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size != bounds[-1]:
                raise ValueError(f"blob has {size} bytes, the table says {bounds[-1]}")
            blob = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        provides = (prov_keys.split("\n"), prov_vals.split("\n")) if prov_keys else ([], [])
        return cls(url, sha256, blob, bounds, names.split("\n") if names else [], first, provides)


def build_index(text: str, url: str, sha256: str) -> Index:
    """The ``Index`` of a Packages/Sources/status text (stanzas without ``Package`` are skipped)."""
    grouped: dict[str, list[str]] = {}
    provides: dict[str, dict[str, None]] = {}
    for chunk in split_stanzas(text):
        chunk = chunk.strip("\n")
        name = field_value(chunk, "Package")
        if name is None:
            continue
        grouped.setdefault(name, []).append(chunk)
        for virtual in parse_provides(field_value(chunk, "Provides")):
            provides.setdefault(virtual, {})[name] = None
    names = sorted(grouped)
    parts: list[bytes] = []
    bounds = array("Q", [0])
    first = array("Q", [0])
    pos = 0
    for name in names:
        for chunk in grouped[name]:
            b = chunk.encode("utf-8")
            parts.append(b)
            pos += len(b)
            bounds.append(pos)
        first.append(len(bounds) - 1)
    keys = sorted(provides)
    joined = (keys, [" ".join(provides[k]) for k in keys])
    return Index(url, sha256, b"".join(parts), bounds, names, first, joined)
