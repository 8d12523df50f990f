"""Downloading a lock's artifacts into the content-addressed cache: parallel, resumable, verified.

Every artifact lands at ``CACHE/sha256/ab/abcd…`` only after its size and sha256 match the lock.
While it downloads it lives in ``abcd….part``; the bytes are hashed as they stream in, so a file is
never read twice.  An interrupted download (lost connection, stall, kill -9) continues from its
``.part`` with ``Range: bytes=N-``: only the N bytes already on disk are re-hashed.  A server that
ignores the Range (answers 200) restarts the file from byte 0.  A finished download whose checksum
differs is deleted and reported with the URL, the expected and the received sha256; a file already
in the cache is re-hashed before use, never trusted blindly.  ``file://`` URLs are copied from disk
and checked the same way.

Concurrency: ``fetch_all`` runs ``jobs`` downloads at once on one shared ``requests`` session (the
``Http`` of ``bundler.net.http``, whose mirrors rewrite URLs; the checksum still comes from the lock).
Two builds sharing one cache serialise on an ``flock`` of the ``.part`` file.

Progress goes to a ``Progress`` object given by the caller (the CLI draws it with tqdm); this module
only logs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
import time
import urllib.parse
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import requests
import urllib3

from bundler.core.errors import BundleError, FetchError, IntegrityError
from bundler.core.lock import Artifact
from bundler.net.cache import artifact_path
from bundler.net.http import Http, new_session

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FetchOptions:
    jobs: int = 6
    connect_timeout: float = 10.0
    stall_timeout: float = 30.0  # no byte for this long: the connection is dropped and resumed
    attempts: int = 4  # tries without progress before giving up on an artifact
    backoff: float = 0.5


class Progress(Protocol):
    def add_total(self, nbytes: int) -> None: ...

    def advance(self, nbytes: int) -> None: ...

    def finished(self, artifact: Artifact, how: str) -> None: ...


class _NoProgress:
    def add_total(self, nbytes: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def finished(self, artifact: Artifact, how: str) -> None:
        pass


@dataclass(frozen=True)
class FetchResult:
    """Where each artifact's verified bytes are, and what had to be downloaded."""

    files: dict[str, Path]  # artifact path in the bundle -> cache file
    downloaded: tuple[str, ...]  # artifact paths fetched over the network (or copied from file://)
    cached: tuple[str, ...]  # artifact paths already in the cache (re-verified)


def hash_file(path: Path, limit: int | None = None) -> tuple[str, int]:
    """sha256 and size of a file (or of its first ``limit`` bytes)."""
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while True:
            want = CHUNK if limit is None else min(CHUNK, limit - n)
            if want <= 0:
                break
            block = f.read(want)
            if not block:
                break
            h.update(block)
            n += len(block)
    return h.hexdigest(), n


def _describe(artifact: Artifact) -> str:
    return f"{artifact.kind} {artifact.name} {artifact.version}"


def _shown(url: str, real: str) -> str:
    return url if real == url else f"{url} (mirror {real})"


def verified_cache_file(artifact: Artifact, cache: Path) -> Path | None:
    """The cache file of ``artifact`` if it is there and still matches the lock; a bad one is removed."""
    dest = artifact_path(cache, artifact.sha256)
    try:
        size = dest.stat().st_size
    except FileNotFoundError:
        return None
    if size == artifact.size:
        digest, _ = hash_file(dest)
        if digest == artifact.sha256:
            return dest
        log.warning("cache file %s has sha256 %s, not %s: fetching it again", dest, digest, artifact.sha256)
    else:
        log.warning("cache file %s has %d bytes, not %d: fetching it again", dest, size, artifact.size)
    with contextlib.suppress(FileNotFoundError):
        dest.unlink()
    return None


class _Part:
    """An open, locked ``.part`` file with the running hash of the bytes it holds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # another process renamed or removed it while we waited
        self.fd = fd
        self.hash = hashlib.sha256()
        self.size = 0

    def load(self, limit: int) -> None:
        """Hash the bytes already there (a resumed download); drop them if there are too many."""
        on_disk = os.fstat(self.fd).st_size
        if on_disk > limit:
            self.reset()
            return
        os.lseek(self.fd, 0, os.SEEK_SET)
        while self.size < on_disk:
            block = os.read(self.fd, min(CHUNK, on_disk - self.size))
            if not block:
                break
            self.hash.update(block)
            self.size += len(block)
        os.ftruncate(self.fd, self.size)

    def reset(self) -> None:
        os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, block: bytes) -> None:
        os.lseek(self.fd, self.size, os.SEEK_SET)
        view = memoryview(block)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.hash.update(block)
        self.size += len(block)

    def close(self) -> None:
        os.close(self.fd)  # releases the flock


class _Fetcher:
    def __init__(self, http: Http, cache: Path, options: FetchOptions, progress: Progress) -> None:
        self.http = http
        self.cache = Path(cache)
        self.options = options
        self.progress = progress
        self.stop = threading.Event()  # set on Ctrl-C: running downloads end at their next block

    def fetch(self, artifact: Artifact) -> tuple[Path, str]:
        """Verified cache file and how it was obtained ("cache", "download", "copy")."""
        found = verified_cache_file(artifact, self.cache)
        if found is not None:
            return found, "cache"
        dest = artifact_path(self.cache, artifact.sha256)
        part = _Part(dest.with_name(dest.name + ".part"))
        try:
            found = verified_cache_file(artifact, self.cache)  # another build may have finished it
            if found is not None:
                return found, "cache"
            self.progress.add_total(artifact.size)
            real = self.http.url(artifact.url)
            if real.startswith("file://"):
                self._copy(artifact, real, part)
                how = "copy"
            else:
                self._download(artifact, real, part)
                how = "download"
            os.fsync(part.fd)
            os.replace(part.path, dest)
            return dest, how
        except OSError as exc:
            raise FetchError(f"{_describe(artifact)}: cannot write {part.path}: {exc.strerror or exc}") from None
        finally:
            part.close()

    def _check(self, artifact: Artifact, real: str, part: _Part) -> None:
        got = part.hash.hexdigest()
        if part.size != artifact.size or got != artifact.sha256:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part.path)
            raise IntegrityError(
                f"{_describe(artifact)}: {_shown(artifact.url, real)} gave {part.size} bytes with sha256 {got};"
                f" the lock expects {artifact.size} bytes with sha256 {artifact.sha256} (trust: {artifact.trust})."
                " The download was discarded; check the URL or mirror, or re-lock if upstream changed"
            )

    def _copy(self, artifact: Artifact, real: str, part: _Part) -> None:
        parsed = urllib.parse.urlparse(real)
        if parsed.netloc not in ("", "localhost"):
            raise FetchError(f"{_describe(artifact)}: {real}: file:// URLs must name a local path")
        src = Path(urllib.parse.unquote(parsed.path))
        part.reset()
        try:
            with open(src, "rb") as f:
                while block := f.read(CHUNK):
                    if self.stop.is_set():
                        raise FetchError(f"{_describe(artifact)}: interrupted")
                    if part.size + len(block) > artifact.size:
                        part.write(block[: artifact.size - part.size + 1])
                        break
                    part.write(block)
                    self.progress.advance(len(block))
        except OSError as exc:
            raise FetchError(f"{_describe(artifact)}: cannot read {real}: {exc.strerror}") from None
        self._check(artifact, real, part)

    def _download(self, artifact: Artifact, real: str, part: _Part) -> None:
        shown = _shown(artifact.url, real)
        part.load(artifact.size)
        if part.size:
            log.info("%s: resuming at byte %d of %d", shown, part.size, artifact.size)
            self.progress.advance(part.size)
        resumed = part.size > 0
        failures = 0
        last = ""
        while part.size < artifact.size:
            if failures >= self.options.attempts:
                raise FetchError(
                    f"{_describe(artifact)}: GET {shown}: {last} (gave up after {failures} attempts without"
                    f" progress; {part.size} of {artifact.size} bytes kept in {part.path}, run the build again"
                    " to resume)"
                )
            if failures:
                time.sleep(self.options.backoff * 2 ** (failures - 1))
            before = part.size
            try:
                done = self._get(artifact, real, shown, part)
            except _Retry as exc:
                last = str(exc)
                log.info("%s: %s; retrying from byte %d", shown, last, part.size)
                failures = 0 if part.size > before else failures + 1
                continue
            if done:
                break
        if part.size == artifact.size and part.hash.hexdigest() != artifact.sha256 and resumed:
            # The bytes kept from an earlier run may be the bad ones: one clean download decides.
            log.warning("%s: checksum mismatch after resuming; downloading the whole file again", shown)
            part.reset()
            self.progress.advance(-artifact.size)
            self._download(artifact, real, part)
            return
        self._check(artifact, real, part)

    def _get(self, artifact: Artifact, real: str, shown: str, part: _Part) -> bool:
        headers = {"Accept-Encoding": "identity"}
        if part.size:
            headers["Range"] = f"bytes={part.size}-"
        timeout = (self.options.connect_timeout, self.options.stall_timeout)
        try:
            resp = self.http.session.get(real, headers=headers, stream=True, timeout=timeout)
        except requests.RequestException as exc:
            raise _Retry(f"{type(exc).__name__}: {exc}") from None
        with resp:
            if resp.status_code >= 500 or resp.status_code == 429:
                raise _Retry(f"HTTP {resp.status_code}")
            if resp.status_code == 416 and part.size:
                log.info("%s: server refused the range; starting over", shown)
                self.progress.advance(-part.size)
                part.reset()
                raise _Retry("HTTP 416 for the resume range")
            if resp.status_code == 200 and part.size:
                log.info("%s: server ignored the Range request; starting over", shown)
                self.progress.advance(-part.size)
                part.reset()
            elif resp.status_code == 206:
                start = _content_range_start(resp.headers.get("Content-Range", ""))
                if start != part.size:
                    self.progress.advance(-part.size)
                    part.reset()
                    raise _Retry(f"server answered Content-Range {resp.headers.get('Content-Range')!r}")
            elif resp.status_code != 200:
                raise FetchError(f"{_describe(artifact)}: GET {shown}: HTTP {resp.status_code} {resp.reason}")
            try:
                # read1 hands over whatever arrived, so a dropped connection loses no received byte
                # (urllib3 1.x has no read1: small reads lose at most 64 KiB)
                read = getattr(resp.raw, "read1", None) or (lambda n, **kw: resp.raw.read(min(n, 65536), **kw))
                while block := read(CHUNK, decode_content=False):
                    if self.stop.is_set():
                        raise FetchError(f"{_describe(artifact)}: interrupted; {part.size} bytes kept to resume")
                    if part.size + len(block) > artifact.size:
                        part.write(block[: artifact.size - part.size + 1])
                        self._check(artifact, real, part)  # always fails: more bytes than the lock says
                    part.write(block)
                    self.progress.advance(len(block))
            except (requests.RequestException, urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as exc:
                raise _Retry(f"connection lost after {part.size} bytes ({type(exc).__name__})") from None
        if part.size < artifact.size:
            raise _Retry(f"response ended after {part.size} of {artifact.size} bytes")
        return True


class _Retry(Exception):
    """A transient failure: resume from the bytes we have."""


def _content_range_start(value: str) -> int | None:
    # "bytes 100-999/1000"
    try:
        unit, _, rest = value.partition(" ")
        return int(rest.split("-", 1)[0]) if unit == "bytes" else None
    except ValueError:
        return None


def fetch_one(
    http: Http,
    artifact: Artifact,
    cache: Path,
    *,
    options: FetchOptions | None = None,
    progress: Progress | None = None,
) -> Path:
    """Fetch one artifact into the cache (or find it there, re-verified) and return its path."""
    path, _ = _Fetcher(http, cache, options or FetchOptions(), progress or _NoProgress()).fetch(artifact)
    return path


def fetch_all(
    artifacts: Iterable[Artifact],
    cache: Path,
    *,
    http: Http | None = None,
    options: FetchOptions | None = None,
    progress: Progress | None = None,
) -> FetchResult:
    """Fetch every artifact, ``options.jobs`` at a time; report every failure together.

    Artifacts sharing a sha256 are fetched once.  Raises ``IntegrityError`` if any download had the
    wrong checksum, else ``FetchError`` listing every artifact that could not be fetched.
    """
    options = options or FetchOptions()
    progress = progress or _NoProgress()
    jobs = max(1, options.jobs)
    if http is None:
        http = Http(session=new_session(pool_size=jobs))
    elif jobs > 8:
        http = Http(mirrors=http.mirrors, retries=http.retries, backoff=http.backoff, session=new_session(jobs))
    artifacts = list(artifacts)
    by_sha: dict[str, list[Artifact]] = {}
    for a in artifacts:
        by_sha.setdefault(a.sha256, []).append(a)
    fetcher = _Fetcher(http, cache, options, progress)
    files: dict[str, Path] = {}
    downloaded: list[str] = []
    cached: list[str] = []
    errors: list[BundleError] = []
    # Largest first: the long downloads start early and the pool drains evenly.
    order = sorted(by_sha.values(), key=lambda group: -group[0].size)
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="fetch")
    try:
        futures = {pool.submit(fetcher.fetch, group[0]): group for group in order}
        for future in as_completed(futures):
            group = futures[future]
            try:
                path, how = future.result()
            except BundleError as exc:
                errors.append(exc)
                continue
            for a in group:
                files[a.path] = path
                (cached if how == "cache" else downloaded).append(a.path)
                progress.finished(a, how)
    except BaseException:
        fetcher.stop.set()  # Ctrl-C: stop the running downloads (their .part files stay) and queued ones
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if errors:
        message = "; ".join(sorted(str(e) for e in errors))
        if len(errors) > 1:
            message = f"{len(errors)} artifacts failed: {message}"
        if any(isinstance(e, IntegrityError) for e in errors):
            raise IntegrityError(message)
        raise FetchError(message)
    return FetchResult(files, tuple(sorted(downloaded)), tuple(sorted(cached)))
