"""The compact index client: ``/versions`` and ``/info/NAME`` of a gem source, parsed and cached.

After Bundler's ``compact_index_client``: ``parse_versions`` reads ``/versions`` (gem name -> MD5 of
its current info file), ``parse_info_line`` one line of ``/info/NAME`` into an ``IndexEntry`` (a
release for one platform: its runtime dependencies, sha256 and ``ruby:``/``rubygems:``
requirements).  ``CompactIndex`` fetches them through ``Http``: ``/versions`` is kept in the cache
and only its new tail asked for (``Range``), an info file is reused while its MD5 in ``/versions``
is unchanged, and the info files a resolver will ask for next are fetched in parallel
(``prefetch``).  The resolver (``provider.py``) never sees HTTP.

Imports ``bundler.core`` and ``bundler.net.http``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bundler.core.errors import BundleError, InputError, ResolutionError
from bundler.core.gem.version import Requirement, Version
from bundler.net.http import Http

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
GEM_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


# Caps on the answers: rubygems.org's /versions is ~25 MB and grows slowly; the largest /info/NAME
# files are a few hundred kB.  An answer past these is not an index (endless data), refused in one line.
MAX_VERSIONS_BYTES = 256 << 20
MAX_INFO_BYTES = 16 << 20


def safe_gem_name(name: str) -> bool:
    """A gem name or platform that is one plain path segment: the name goes into URLs (``/info/NAME``,
    ``/gems/NAME-VERSION.gem``) and cache paths, so ``/``, ``.`` and ``..`` are refused."""
    return bool(GEM_NAME.match(name)) and name.strip(".") != ""


@dataclass(frozen=True)
class IndexEntry:
    """One line of ``/info/NAME``: a release for one platform."""

    name: str
    version: Version
    platform: str
    dependencies: tuple[tuple[str, Requirement], ...]
    sha256: str
    ruby: Requirement | None = None
    rubygems: Requirement | None = None

    @property
    def full_name(self) -> str:
        return f"{self.name}-{self.version}" + ("" if self.platform == "ruby" else f"-{self.platform}")

    @property
    def filename(self) -> str:
        return f"{self.full_name}.gem"


def parse_info_line(name: str, line: str, where: str) -> IndexEntry:
    """Parse ``VERSION[-PLATFORM] DEP:REQ&REQ,…|checksum:SHA256[,ruby:REQ][,rubygems:REQ]``."""

    def bad(why: str) -> ResolutionError:
        return ResolutionError(f"{where}: malformed compact index line for gem {name!r} ({why}): {line!r}")

    head, sep, rest = line.partition(" ")
    if not sep:
        raise bad("no space after the version")
    number, _, platform = head.partition("-")
    if platform and not safe_gem_name(platform):
        raise bad(f"platform {platform!r} is not a plain name")
    deps_text, sep, reqs_text = rest.partition("|")
    if not sep:
        raise bad("no '|' before the checksum")
    try:
        version = Version(number)
        deps = []
        for item in filter(None, deps_text.split(",")):
            dep_name, colon, req = item.partition(":")
            if not colon or not safe_gem_name(dep_name):
                raise bad(f"dependency {item!r} is not NAME:REQUIREMENT")
            deps.append((dep_name, Requirement.parse(req)))
        m = re.match(r"\Achecksum:([^,]+)(?:,|\Z)", reqs_text)
        if m is None or not _SHA256.match(m.group(1)):
            raise bad("no sha256 checksum")
        tail = reqs_text[m.end() :]
        rubygems = ruby = None
        gm = re.search(r"(?:\A|,)rubygems:(.+)\Z", tail)
        if gm:
            rubygems = Requirement.parse(gm.group(1))
            tail = tail[: gm.start()]
        rm = re.match(r"\Aruby:(.+)\Z", tail)
        if rm:
            ruby = Requirement.parse(rm.group(1))
        elif tail:
            raise bad(f"unexpected {tail!r} after the checksum")
    except InputError as exc:
        raise bad(str(exc)) from None
    return IndexEntry(name, version, platform or "ruby", tuple(deps), m.group(1), ruby, rubygems)


def _whole_file_sha256(headers: Mapping[str, str]) -> bytes | None:
    """The sha256 a server states for the whole representation (RFC 9530 ``Repr-Digest:
    sha-256=:B64:`` or the older ``Digest: sha-256=B64``), if any."""
    for header in ("Repr-Digest", "Digest"):
        for item in (headers.get(header) or "").split(","):
            algo, _, value = item.strip().partition("=")
            if algo.lower() == "sha-256" and value:
                try:
                    return base64.b64decode(value.strip(":"), validate=True)
                except (binascii.Error, ValueError):
                    return None
    return None


def parse_versions(text: str, where: str) -> dict[str, str]:
    """``/versions``: gem name -> MD5 of its current info file (the last line for a name wins)."""
    out: dict[str, str] = {}
    body = text.split("\n---\n", 1)[1] if "\n---\n" in text else text.removeprefix("---\n")
    for n, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(" ")
        if len(parts) != 3:
            raise ResolutionError(f"{where}: malformed line after the header, entry {n}: {line!r}")
        if not safe_gem_name(parts[0]):
            raise ResolutionError(f"{where}: entry {n}: gem name {parts[0]!r} is not a plain name")
        out[parts[0]] = parts[2]
    return out


@dataclass
class CompactIndex:
    """A compact-index gem source, read through ``http`` and cached under ``cache_dir``."""

    http: Http
    source: str
    cache_dir: Path | None = None
    _versions: dict[str, str] | None = None
    _infos: dict[str, list[IndexEntry]] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)  # URLs actually downloaded (for tests and bench)

    def __post_init__(self) -> None:
        self.source = self.source.rstrip("/")
        if self.cache_dir is not None:
            key = hashlib.sha256(self.source.encode()).hexdigest()[:16]
            host = re.sub(r"[^A-Za-z0-9.-]+", "_", self.source.split("://", 1)[-1])[:60]
            self.cache_dir = Path(self.cache_dir) / f"{host}-{key}"
            (self.cache_dir / "info").mkdir(parents=True, exist_ok=True)

    def gem_url(self, entry: IndexEntry) -> str:
        return f"{self.source}/gems/{entry.filename}"

    def versions(self) -> dict[str, str]:
        if self._versions is None:
            url = f"{self.source}/versions"
            data = self._versions_bytes(url)
            self._versions = parse_versions(data.decode("utf-8", "replace"), url)
        return self._versions

    def _versions_bytes(self, url: str) -> bytes:
        """``/versions`` only grows between compactions (rubygems.org's is ~20 MB), so, as Bundler
        does, ask only for what follows the cached copy: ``Range: bytes=N-1-``, where the first byte
        returned must equal the last byte we have (a newline).  When the server states the whole
        file's sha256 (``Repr-Digest``/``Digest``), the joined file must match it; anything odd
        (no 206, a shrunken file, a mismatch) falls back to one full download."""
        cached = self.cache_dir / "versions" if self.cache_dir is not None else None
        old = cached.read_bytes() if cached is not None and cached.is_file() else b""
        data = None
        if old:
            data = self._versions_tail(url, old)
        if data is None:
            data = self.http.get_bytes(url, limit=MAX_VERSIONS_BYTES)
            self.fetched.append(url)
        if cached is not None and data != old:
            tmp = cached.with_name("versions.tmp")
            tmp.write_bytes(data)
            tmp.replace(cached)
        return data

    def _versions_tail(self, url: str, old: bytes) -> bytes | None:
        start = len(old) - 1
        try:
            status, headers, body = self.http.get_from(url, start, limit=MAX_VERSIONS_BYTES)
        except BundleError as exc:  # retried by the full download
            log.debug("GET %s from byte %d: %s", url, start, exc)
            return None
        if status != 206 or not body.startswith(old[-1:]):
            log.debug("GET %s from byte %d: HTTP %d; downloading it whole", url, start, status)
            return None
        self.fetched.append(f"{url} (from byte {start})")
        data = old + body[1:]
        expected = _whole_file_sha256(headers)
        if expected is not None and hashlib.sha256(data).digest() != expected:
            log.debug("%s: the joined file does not match the server's digest; downloading it whole", url)
            return None
        return data

    def exists(self, name: str) -> bool:
        return name in self.versions()

    def prefetch(self, names: Iterable[str], workers: int = 8) -> None:
        """Fetch the info files of ``names`` not read yet, in parallel (as Bundler does): a resolver
        asks for a candidate's dependencies one at a time, and each is a round trip."""
        missing = sorted({n for n in names if n not in self._infos and n in self.versions()})
        if len(missing) > 1:
            with ThreadPoolExecutor(min(workers, len(missing))) as pool:
                list(pool.map(self.info, missing))

    def info(self, name: str) -> list[IndexEntry]:
        """Every release of ``name`` (empty when the source has no such gem)."""
        if name in self._infos:
            return self._infos[name]
        if not safe_gem_name(name):
            raise ResolutionError(f"gem name {name!r} is not a plain name (letters, digits, '.', '_', '-')")
        md5 = self.versions().get(name)
        if md5 is None:
            self._infos[name] = []
            return []
        url = f"{self.source}/info/{name}"
        cached = self.cache_dir / "info" / name if self.cache_dir is not None else None
        text = None
        if cached is not None and cached.is_file():
            data = cached.read_bytes()
            if hashlib.md5(data).hexdigest() == md5:
                text = data.decode("utf-8")
        if text is None:
            data = self.http.get_bytes(url, limit=MAX_INFO_BYTES)
            self.fetched.append(url)
            if hashlib.md5(data).hexdigest() != md5:
                log.warning("%s: MD5 differs from %s/versions (the index is being updated?)", url, self.source)
            elif cached is not None:
                tmp = cached.with_name(cached.name + ".tmp")
                tmp.write_bytes(data)
                tmp.replace(cached)
            text = data.decode("utf-8")
        entries = []
        lines = text.split("\n")
        start = lines.index("---") + 1 if "---" in lines else 0
        for n, line in enumerate(lines[start:], start + 1):
            if line.strip():
                entries.append(parse_info_line(name, line, f"{url} line {n}"))
        self._infos[name] = entries
        return entries
