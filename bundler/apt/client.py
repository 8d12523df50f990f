"""APT repository client: the signed chain InRelease -> Release -> index, and fast index parsing.

Trust flows from a keyring to every byte we use: ``fetch_release`` downloads ``dists/SUITE/InRelease``
(or ``Release`` + ``Release.gpg``) and checks it with ``gpgv --keyring KEYRING --status-fd``; only the
text gpgv says is signed is parsed.  ``Release`` lists ``SHA256:`` lines ``hash size path``; ``fetch_index``
downloads an index named there (``.xz`` preferred, then ``.gz``, then plain), checks its sha256 and size
against Release and parses it into an ``Index``.  A source marked ``trusted: true`` skips the signature
check (a bad or missing signature is then only logged) and its artifacts are recorded as
``trusted-by-spec``; the sha256 chain from Release down is still checked.  A good signature is
remembered in the cache for those exact bytes and keyring contents, so a warm run spawns no gpgv.

Public API (used by ``bundler.debs.resolve`` and by the Ruby source resolver):

    client = AptClient(http, cache_root)               # Http from bundler.net.http, cache from the lock context
    rel = client.release(source, suite)                # -> Release (verified); source is spec.AptSource
    rel.trust                                          # "apt-release-signature" | "trusted-by-spec"
    rel.entry("main/source/Sources.xz")                # -> IndexEntry(path, sha256, size) | None
    idx = client.index(rel, "main/source/Sources")     # -> Index, any compression, sha256-checked, cached
    idx.get("ruby3.1")                                 # -> [dict field -> value], one per stanza, in file order
    idx.names()                                        # every "Package" name
    idx.providers("awk")                               # Packages only: names whose Provides lists it
    rel.url_of("pool/main/r/ruby3.1/x.tar.xz")         # absolute URL under the repository root
    client.packages(rel, "main", "amd64")              # -> Index of main/binary-amd64/Packages
    AptClient.system_sources()                         # this machine's apt sources (see aptconfig.py)

Field values are strings exactly as in the file; multi-line fields (``Checksums-Sha256``, ``Files``)
keep their continuation lines joined by ``\\n`` with the leading space removed (first line may be
empty).  ``parse_relations`` turns a ``Depends``-style value into alternatives of ``Relation``.

Parsing: a Packages file is split into stanzas with ``str.split("\\n\\n")`` and only the ``Package``
and ``Provides`` lines are looked at up front; a stanza is parsed into a dict when asked for.
The parsed index is cached under ``index_dir(cache, "apt")``, named by the sha256 of the downloaded
file (so an unchanged Release means no download at all): the raw stanzas as one blob that is
memory-mapped on load, and the tables (stanza bounds, names, provides) with ``marshal``.  python-debian's deb822
parser takes ~6 s on Debian main; building this index takes well under a second and loading it
from the cache a few hundredths (see bench/resolve.py).
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import json
import logging
import lzma
import marshal
import mmap
import os
import re
import subprocess
import tempfile
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bundler.core.errors import FetchError, InputError, IntegrityError
from bundler.net.cache import index_dir
from bundler.net.http import Http
from bundler.spec import AptSource

log = logging.getLogger(__name__)

TRUST_SIGNED = "apt-release-signature"
TRUST_SPEC = "trusted-by-spec"
_CACHE_FORMAT = 6  # bump when the cached layout changes
COMPRESSIONS = ((".xz", lzma.decompress), (".gz", gzip.decompress), ("", lambda b: b))


@dataclass(frozen=True)
class IndexEntry:
    path: str  # relative to dists/SUITE/, e.g. "main/binary-amd64/Packages.xz"
    sha256: str
    size: int


@dataclass(frozen=True)
class Release:
    """A verified Release file of one suite of one source."""

    source: AptSource
    suite: str
    fields: dict[str, str]  # single-line fields: Origin, Codename, Date, Architectures, ...
    entries: dict[str, IndexEntry]  # path -> entry, from the SHA256 section
    trust: str  # TRUST_SIGNED or TRUST_SPEC
    signer: str = ""  # fingerprint of the key that signed (empty when not verified)

    @property
    def root(self) -> str:
        return self.source.url.rstrip("/")

    @property
    def dists_url(self) -> str:
        return f"{self.root}/dists/{self.suite}"

    def entry(self, path: str) -> IndexEntry | None:
        return self.entries.get(path)

    def url_of(self, pool_path: str) -> str:
        """URL of a file named relative to the repository root (a Packages ``Filename``)."""
        return f"{self.root}/{pool_path.lstrip('/')}"

    @property
    def by_hash(self) -> bool:
        return self.fields.get("Acquire-By-Hash", "").lower() == "yes"


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


# ----------------------------------------------------------------------------------------------------------------
# Parsing


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


def split_stanzas(text: str) -> list[str]:
    """A deb822 file into stanza texts (blank-line separated); fast: no per-field work."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return [s for s in text.split("\n\n") if s.strip()]


def _field(stanza: str, name: str) -> str | None:
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


def build_index(text: str, url: str, sha256: str) -> Index:
    grouped: dict[str, list[str]] = {}
    provides: dict[str, list[str]] = {}
    for chunk in split_stanzas(text):
        chunk = chunk.strip("\n")
        name = _field(chunk, "Package")
        if name is None:
            continue
        grouped.setdefault(name, []).append(chunk)
        prov = _field(chunk, "Provides")
        if prov:
            for item in prov.split(","):
                virtual = item.split("(", 1)[0].strip()
                if virtual:
                    lst = provides.setdefault(virtual, [])
                    if name not in lst:
                        lst.append(name)
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


def parse_release(text: str) -> tuple[dict[str, str], dict[str, IndexEntry]]:
    fields: dict[str, str] = {}
    entries: dict[str, IndexEntry] = {}
    section = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0] in " \t":
            if section == "SHA256":
                parts = line.split()
                if len(parts) == 3 and re.fullmatch(r"[0-9a-f]{64}", parts[0]) and parts[1].isdigit():
                    entries[parts[2]] = IndexEntry(parts[2], parts[0], int(parts[1]))
            continue
        key, _, value = line.partition(":")
        section = key
        fields[key] = value.strip()
    return fields, entries


# ----------------------------------------------------------------------------------------------------------------
# Signature


def keyring_paths(keyring: str | None) -> list[str]:
    """A source's keyring: one path, or several joined with ``os.pathsep`` (apt's trusted.gpg.d fallback)."""
    return [k for k in (keyring or "").split(os.pathsep) if k]


def gpgv_verify(signed: Path, keyrings: list[str], detached: Path | None = None) -> tuple[bool, str, str, bytes]:
    """Run gpgv; -> (ok, signer fingerprint, reason, signed content).

    ``ok`` needs a VALIDSIG from the keyrings and no BADSIG/ERRSIG-for-bad-data, read from ``--status-fd``
    rather than gpgv's human-readable output.  For a clearsigned file, the content is what gpgv
    writes with ``--output`` (text outside the signed part is never seen)."""
    with tempfile.TemporaryDirectory(prefix="bosh-gpgv-") as home:
        real_rings = []
        for k in keyrings:
            if k.endswith(".asc"):
                dearmored = Path(home) / (Path(k).name + ".gpg")
                proc = subprocess.run(
                    ["gpg", "--homedir", home, "--batch", "--yes", "--dearmor", "-o", str(dearmored), k],
                    capture_output=True,
                )
                if proc.returncode != 0:
                    return False, "", f"cannot read keyring {k}: {proc.stderr.decode(errors='replace').strip()}", b""
                real_rings.append(str(dearmored))
            else:
                real_rings.append(k)
        out = Path(home) / "content"
        cmd = ["gpgv", "--homedir", home, "--status-fd", "1"]
        for k in real_rings:
            cmd += ["--keyring", k]
        if detached is None:
            cmd += ["--output", str(out), str(signed)]
        else:
            cmd += [str(detached), str(signed)]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=120)
        except FileNotFoundError:
            raise FetchError("gpgv is not installed (apt-get install gpgv)") from None
        status = [
            ln.split()[1:] for ln in proc.stdout.decode(errors="replace").splitlines() if ln.startswith("[GNUPG:] ")
        ]
        kinds = {s[0] for s in status if s}
        valid = [s[1] for s in status if s and s[0] == "VALIDSIG" and len(s) > 1]
        if "BADSIG" in kinds:
            return False, "", "BAD signature", b""
        if not valid:
            if "NO_PUBKEY" in kinds or "ERRSIG" in kinds:
                missing = [s[1] for s in status if s and s[0] == "NO_PUBKEY" and len(s) > 1]
                return False, "", f"no public key in {', '.join(keyrings)} for signer {', '.join(missing) or '?'}", b""
            if "NODATA" in kinds:
                return False, "", "not a signed file", b""
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            return False, "", err[-1] if err else f"gpgv exited {proc.returncode}", b""
        if proc.returncode != 0:
            return False, "", f"gpgv exited {proc.returncode}", b""
        content = signed.read_bytes() if detached is not None else out.read_bytes()
        return True, valid[0], "", content


# ----------------------------------------------------------------------------------------------------------------
# Client


class AptClient:
    """Reads signed APT repositories through ``Http`` and keeps parsed indexes in the cache."""

    def __init__(self, http: Http, cache: Path | None) -> None:
        self.http = http
        self.cache = Path(cache) if cache is not None else None
        self._indexes: dict[str, Index] = {}

    @staticmethod
    def system_sources() -> list[AptSource]:
        from bundler.apt.system import read_system_sources

        return read_system_sources()

    def _get(self, url: str, *, sha256: str | None = None, allow_404: bool = False) -> bytes | None:
        if url.startswith("file://"):
            path = Path(unquote(urlsplit(url).path))
            if not path.is_file():
                if allow_404:
                    return None
                raise FetchError(f"{url}: no such file")
            data = path.read_bytes()
            if sha256 is not None:
                got = hashlib.sha256(data).hexdigest()
                if got != sha256:
                    raise IntegrityError(f"{url}: sha256 is {got}, expected {sha256}")
            return data
        return self.http.get_bytes(url, sha256=sha256, allow_404=allow_404)

    def release(self, source: AptSource, suite: str) -> Release:
        """Fetch and verify ``dists/SUITE/InRelease`` (or ``Release`` + ``Release.gpg``)."""
        if suite.endswith("/"):
            raise InputError(f"apt source {source.url} {suite}: flat repositories are not supported")
        base = f"{source.url.rstrip('/')}/dists/{suite}"
        keyrings = keyring_paths(source.keyring)
        for k in keyrings:
            if not Path(k).is_file():
                raise InputError(f"apt source {source.url}: keyring {k} does not exist (install the keyring package)")
        inrelease = self._get(f"{base}/InRelease", allow_404=True)
        detached = None
        if inrelease is None:
            data = self._get(f"{base}/Release", allow_404=True)
            if data is None:
                raise FetchError(f"{base}: neither InRelease nor Release exists (is the suite {suite!r} right?)")
            detached = self._get(f"{base}/Release.gpg", allow_404=True)
        else:
            data = inrelease
        text, trust, signer = self._verified(source, suite, data, inrelease is not None, detached)
        fields, entries = parse_release(text)
        if not entries:
            raise IntegrityError(f"{base}: Release has no SHA256 section")
        return Release(source, suite, fields, entries, trust, signer)

    def _verified(
        self, source: AptSource, suite: str, data: bytes, clearsigned: bool, detached: bytes | None
    ) -> tuple[str, str, str]:
        """``_verify``, remembered in the cache for these exact bytes, signature and keyring contents
        (a good signature only: failures are always re-checked), so a warm run spawns no gpgv."""
        if self.cache is None:
            return self._verify(source, suite, data, clearsigned, detached)
        h = hashlib.sha256(data)
        h.update(b"\0" + (detached or b"") + b"\0" + str(source.trusted).encode())
        for k in keyring_paths(source.keyring):
            h.update(b"\0" + Path(k).read_bytes())
        memo = index_dir(self.cache, "apt") / f"release-{h.hexdigest()}.json"
        if memo.exists():
            try:
                got = json.loads(memo.read_text(encoding="utf-8"))
                if got.get("trust") == TRUST_SIGNED:
                    return got["text"], got["trust"], got["signer"]
            except (OSError, ValueError, KeyError):
                pass
        text, trust, signer = self._verify(source, suite, data, clearsigned, detached)
        if trust == TRUST_SIGNED:
            tmp = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"text": text, "trust": trust, "signer": signer}), encoding="utf-8")
            os.replace(tmp, memo)
        return text, trust, signer

    def _verify(
        self, source: AptSource, suite: str, data: bytes, clearsigned: bool, detached: bytes | None
    ) -> tuple[str, str, str]:
        where = f"{source.url.rstrip('/')}/dists/{suite}/{'InRelease' if clearsigned else 'Release'}"
        reason = ""
        if clearsigned or detached is not None:
            if keyring_paths(source.keyring):
                with tempfile.TemporaryDirectory(prefix="bosh-release-") as tmp:
                    signed = Path(tmp) / ("InRelease" if clearsigned else "Release")
                    signed.write_bytes(data)
                    sig = None
                    if detached is not None:
                        sig = Path(tmp) / "Release.gpg"
                        sig.write_bytes(detached)
                    ok, signer, reason, content = gpgv_verify(signed, keyring_paths(source.keyring), sig)
                if ok:
                    log.debug("%s: good signature by %s", where, signer)
                    return content.decode("utf-8", errors="replace"), TRUST_SIGNED, signer
            else:
                reason = "no keyring given"
        else:
            reason = "no signature (Release.gpg missing)"
        if not source.trusted:
            raise IntegrityError(
                f"{where}: signature check failed: {reason}; fix the keyring (signed-by) or mark the source"
                " 'trusted: true' to accept it unsigned"
            )
        log.warning("%s: %s; accepted because the source is marked trusted", where, reason)
        text = data.decode("utf-8", errors="replace")
        if clearsigned:
            text = _strip_clearsign(text)
        return text, TRUST_SPEC, ""

    def index(self, release: Release, path: str) -> Index:
        """The index ``path`` (without compression suffix, e.g. ``main/binary-amd64/Packages``)."""
        found = [(release.entry(path + suffix), dec) for suffix, dec in COMPRESSIONS if release.entry(path + suffix)]
        if not found:
            raise FetchError(f"{release.dists_url}/Release does not list {path} (.xz, .gz or plain)")
        entry, decompress = found[0]
        url = f"{release.dists_url}/{entry.path}"
        hit = self._indexes.get(entry.sha256)
        if hit is not None:
            return hit
        idx = self._load_cached(url, entry.sha256)
        if idx is not None:
            self._indexes[entry.sha256] = idx
            return idx
        data = None
        if release.by_hash:
            by_hash = f"{release.dists_url}/{entry.path.rsplit('/', 1)[0]}/by-hash/SHA256/{entry.sha256}"
            try:
                data = self._get(by_hash, sha256=entry.sha256, allow_404=True)
            except (FetchError, IntegrityError) as exc:
                log.debug("%s: %s; trying %s", by_hash, exc, url)
        if data is None:
            data = self._get(url, sha256=entry.sha256)
        if data is None or len(data) != entry.size:
            raise IntegrityError(f"{url}: size {len(data or b'')} does not match Release ({entry.size})")
        try:
            text = decompress(data).decode("utf-8", errors="replace")
        except (lzma.LZMAError, OSError, EOFError) as exc:
            raise IntegrityError(f"{url}: cannot decompress: {exc}") from None
        idx = build_index(text, url, entry.sha256)
        self._store_cached(entry.sha256, idx)
        self._indexes[entry.sha256] = idx
        return idx

    def packages(self, release: Release, component: str, arch: str) -> Index:
        return self.index(release, f"{component}/binary-{arch}/Packages")

    def _cache_files(self, sha256: str) -> tuple[Path, Path] | None:
        if self.cache is None:
            return None
        d = index_dir(self.cache, "apt")
        return d / f"{sha256}.v{_CACHE_FORMAT}.blob", d / f"{sha256}.v{_CACHE_FORMAT}.marshal"

    def _load_cached(self, url: str, sha256: str) -> Index | None:
        paths = self._cache_files(sha256)
        if paths is None or not paths[1].exists():
            return None
        try:
            return Index.load(url, sha256, *paths)
        except (OSError, EOFError, ValueError, TypeError, IndexError) as exc:
            log.warning("ignoring unreadable index cache %s: %s", paths[1], exc)
            return None

    def _store_cached(self, sha256: str, idx: Index) -> None:
        paths = self._cache_files(sha256)
        if paths is not None:
            idx.store(*paths)


def _strip_clearsign(text: str) -> str:
    """The body of a clearsigned message (only used for sources marked trusted)."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("-----BEGIN PGP SIGNED MESSAGE-----"):
        return text
    body = []
    started = False
    for line in lines[1:]:
        if not started:
            started = line == ""
            continue
        if line.startswith("-----BEGIN PGP SIGNATURE-----"):
            break
        body.append(line[2:] if line.startswith("- ") else line)
    return "\n".join(body) + "\n"
