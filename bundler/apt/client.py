"""The apt repository client: the signed chain InRelease -> Release -> index, read through ``Http``.

Trust flows from a keyring to every byte we use: ``release`` downloads ``dists/SUITE/InRelease``
(or ``Release`` + ``Release.gpg``, each at most ``RELEASE_LIMIT`` bytes) and has it checked
(``bundler.apt.release.verify_release``, gpgv); only the text gpgv says is signed is parsed.
``index`` downloads an index the Release lists (``.xz`` preferred, then ``.gz``, then plain; through
``by-hash/`` when the Release says so), refuses more bytes than the Release gives as its size, checks
its sha256 against the Release and builds an ``Index`` (``bundler.apt.index``).  A good signature is
remembered in the cache for those exact bytes and keyring contents, so a warm run spawns no gpgv; a
parsed index is stored in the cache named by its sha256, so an unchanged Release means no download
at all.

    client = AptClient(http, cache_root)               # Http from bundler.net.http, cache from the lock context
    rel = client.release(source, suite)                # -> Release (verified); source is spec.AptSource
    rel.trust                                          # "apt-release-signature" | "trusted-by-spec"
    rel.entry("main/source/Sources.xz")                # -> IndexFile(path, sha256, size) | None
    idx = client.index(rel, "main/source/Sources")     # -> Index, any compression, sha256-checked, cached
    rel.url_of("pool/main/r/ruby3.1/x.tar.xz")         # absolute URL under the repository root
    client.packages(rel, "main", "amd64")              # -> Index of main/binary-amd64/Packages
    AptClient.system_sources()                         # this machine's apt sources (bundler.apt.system)

Used by ``bundler.debs`` and the Ruby source resolver.  Imports ``bundler.core``, ``bundler.net``
(Http, the cache layout), the spec's ``AptSource`` and the other ``bundler.apt`` modules.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import lzma
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bundler.apt.gpg import keyring_paths
from bundler.apt.index import CACHE_FORMAT, Index, build_index
from bundler.apt.release import TRUST_SIGNED, Release, check_fresh, parse_release, verify_release
from bundler.core.errors import FetchError, InputError, IntegrityError
from bundler.net.cache import index_dir
from bundler.net.http import Http
from bundler.spec import AptSource

log = logging.getLogger(__name__)

COMPRESSIONS = ((".xz", lzma.decompress), (".gz", gzip.decompress), ("", lambda b: b))
RELEASE_LIMIT = 16 * 1024 * 1024  # InRelease, Release, Release.gpg (Debian's InRelease is ~150 kB); indexes: their size


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

    def _get(
        self, url: str, *, sha256: str | None = None, allow_404: bool = False, limit: int = RELEASE_LIMIT
    ) -> bytes | None:
        """The bytes at ``url`` (``file://`` read directly), at most ``limit``, checked against ``sha256``."""
        if url.startswith("file://"):
            path = Path(unquote(urlsplit(url).path))
            if not path.is_file():
                if allow_404:
                    return None
                raise FetchError(f"{url}: no such file")
            if path.stat().st_size > limit:
                raise IntegrityError(f"{url}: more than {limit} bytes; refusing it")
            data = path.read_bytes()
            if sha256 is not None:
                got = hashlib.sha256(data).hexdigest()
                if got != sha256:
                    raise IntegrityError(f"{url}: sha256 is {got}, expected {sha256}")
            return data
        return self.http.get_bytes(url, sha256=sha256, allow_404=allow_404, limit=limit)

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
        rel = Release(source, suite, fields, entries, trust, signer)
        check_fresh(rel)
        return rel

    def _verified(
        self, source: AptSource, suite: str, data: bytes, clearsigned: bool, detached: bytes | None
    ) -> tuple[str, str, str]:
        """``verify_release``, remembered in the cache for these exact bytes, signature and keyring contents
        (a good signature only: failures are always re-checked), so a warm run spawns no gpgv."""
        if self.cache is None:
            return verify_release(source, suite, data, clearsigned, detached)
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
        text, trust, signer = verify_release(source, suite, data, clearsigned, detached)
        if trust == TRUST_SIGNED:
            tmp = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"text": text, "trust": trust, "signer": signer}), encoding="utf-8")
            os.replace(tmp, memo)
        return text, trust, signer

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
                data = self._get(by_hash, sha256=entry.sha256, allow_404=True, limit=entry.size)
            except (FetchError, IntegrityError) as exc:
                log.debug("%s: %s; trying %s", by_hash, exc, url)
        if data is None:
            data = self._get(url, sha256=entry.sha256, limit=entry.size)
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
        return d / f"{sha256}.v{CACHE_FORMAT}.blob", d / f"{sha256}.v{CACHE_FORMAT}.marshal"

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
