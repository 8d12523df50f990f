"""The one downloader: a URL's bytes into the content-addressed cache, streamed, resumed, capped, verified.

Every download of the connected side comes through here: the build's artifacts (``fetch_one``,
``fetch_all``, in parallel) and what locking must read once to learn a checksum
(``download_to_cache``: a first-download binary, an unpinned Python tarball, the wheels pip fetched).
A tarball that is inspected while it streams is read with the same ``stream_blocks``
(``bundler.net.lockfetch``).

- Streaming, retry and Range resume: ``bundler.net.stream``; nothing is read twice.
- Size cap: never more than the known size, or ``FetchOptions.max_size`` when the size is unknown.
- Hashing while streaming, into the ``.part`` convention of ``bundler.net.partfile``: a file lands at
  ``CACHE/sha256/ab/abcd…`` only once its size and sha256 are right; an interrupted download
  continues from its ``.part`` with ``Range: bytes=N-`` (only the N bytes on disk are re-hashed); a
  file already in the cache is re-hashed before use, never trusted blindly; a bad download is deleted
  and reported with the URL, the expected and the received sha256 (``ChecksumMismatch``).
  ``file://`` URLs are copied from disk and checked the same way.

Concurrency: ``fetch_all`` runs ``jobs`` downloads at once on one shared session (the ``Http`` of
``bundler.net.http``, whose mirrors rewrite URLs; the checksum still comes from the lock); two builds
sharing a cache serialise on the ``.part``'s ``flock``.  Progress goes to a ``Progress`` given by the
caller (the CLI draws it with tqdm); this module only logs.  Imports ``bundler.core`` (errors, lock,
digest) and ``bundler.net``.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bundler.core.digest import hash_file
from bundler.core.errors import BundleError, FetchError, IntegrityError
from bundler.core.lock import Artifact
from bundler.core.progress import NO_PROGRESS, NullBar, TermProgress
from bundler.net.cache import artifact_path
from bundler.net.http import Http, new_session
from bundler.net.partfile import PartFile, part_path
from bundler.net.stream import CHUNK, MAX_SIZE, FetchOptions, stream_blocks

__all__ = [
    "MAX_SIZE",
    "ChecksumMismatch",
    "Downloader",
    "FetchOptions",
    "FetchResult",
    "Fetched",
    "NoProgress",
    "Progress",
    "Wanted",
    "download_to_cache",
    "fetch_all",
    "fetch_one",
    "options_for",
    "verified_cache_file",
]

log = logging.getLogger(__name__)


class Progress(Protocol):
    """What a download reports to (``bundler.core.progress.Bar`` draws it)."""

    def add_total(self, nbytes: int) -> None: ...

    def advance(self, nbytes: int) -> None: ...

    def finished(self, artifact: Artifact, how: str) -> None: ...


NoProgress = NullBar


@dataclass(frozen=True)
class Wanted:
    """A file to download and what we know of it (``sha256``/``size`` None: learned from the download)."""

    what: str  # names it in messages: "binary bosh-init 0.0.81"
    url: str
    sha256: str | None = None
    size: int | None = None
    trust: str | None = None  # where the sha256 comes from, for the mismatch message

    @classmethod
    def of(cls, artifact: Artifact) -> Wanted:
        what = f"{artifact.kind} {artifact.name} {artifact.version}"
        return cls(what, artifact.url, artifact.sha256, artifact.size, artifact.trust)


@dataclass(frozen=True)
class Fetched:
    path: Path  # the verified file in the cache
    sha256: str
    size: int
    how: str  # "cache", "download" or "copy"


class ChecksumMismatch(IntegrityError):
    """The bytes are not the ones wanted; the download was discarded."""

    def __init__(self, want: Wanted, shown: str, size: int, sha256: str) -> None:
        self.want, self.shown, self.got_size, self.got_sha256 = want, shown, size, sha256
        expects = f"{want.size} bytes with sha256 {want.sha256}" if want.size is not None else f"sha256 {want.sha256}"
        trust = f" (trust: {want.trust})" if want.trust else ""
        super().__init__(
            f"{want.what}: {shown} gave {size} bytes with sha256 {sha256}; the lock expects {expects}{trust}."
            " The download was discarded; check the URL or mirror, or re-lock if upstream changed"
        )


def verified_cache_file(cache: Path, sha256: str, size: int | None = None) -> Path | None:
    """The cache file of ``sha256`` if it is there and still matches; a bad one is removed."""
    dest = artifact_path(cache, sha256)
    try:
        on_disk = dest.stat().st_size
    except FileNotFoundError:
        return None
    if size is None or on_disk == size:
        digest, _ = hash_file(dest)
        if digest == sha256:
            return dest
        log.warning("cache file %s has sha256 %s, not %s: fetching it again", dest, digest, sha256)
    else:
        log.warning("cache file %s has %d bytes, not %d: fetching it again", dest, on_disk, size)
    dest.unlink(missing_ok=True)
    return None


class Downloader:
    """Downloads into one cache through one ``Http``; ``stop`` ends running downloads at their next block."""

    def __init__(
        self, http: Http, cache: Path, options: FetchOptions | None = None, progress: Progress | None = None
    ) -> None:
        self.http = http
        self.cache = Path(cache)
        self.options = options or FetchOptions()
        self.progress = progress or NoProgress()
        self.stop = threading.Event()

    def fetch(self, want: Wanted) -> Fetched:
        """The verified cache file of ``want``: found there (re-hashed), downloaded, or copied."""
        found = verified_cache_file(self.cache, want.sha256, want.size) if want.sha256 else None
        if found is not None:
            return Fetched(found, str(want.sha256), found.stat().st_size, "cache")
        part = PartFile(part_path(self.cache, want.sha256)) if want.sha256 else PartFile.scratch_in(self.cache)
        try:
            if want.sha256 and (found := verified_cache_file(self.cache, want.sha256, want.size)) is not None:
                return Fetched(found, want.sha256, found.stat().st_size, "cache")  # another build finished it
            self.progress.add_total(want.size or 0)
            real = self.http.url(want.url)
            if real.startswith("file://"):
                self._copy(want, real, part)
                how = "copy"
            else:
                self._download(want, part)
                how = "download"
            got = part.hexdigest()
            return Fetched(part.commit(artifact_path(self.cache, got)), got, part.size, how)
        except OSError as exc:
            raise FetchError(f"{want.what}: cannot write {part.path}: {exc.strerror or exc}") from None
        finally:
            part.close()

    def _limit(self, want: Wanted) -> int:
        return want.size if want.size is not None else self.options.max_size

    def _check(self, want: Wanted, part: PartFile) -> None:
        got, limit = part.hexdigest(), self._limit(want)
        if (want.size is not None and part.size != want.size) or (want.sha256 and got != want.sha256):
            part.discard()
            raise ChecksumMismatch(want, self.http.shown(want.url), part.size, got)
        if part.size > limit:
            part.discard()
            raise IntegrityError(f"{want.what}: {self.http.shown(want.url)} sends more than {limit} bytes; refused")

    def _copy(self, want: Wanted, real: str, part: PartFile) -> None:
        parsed = urllib.parse.urlparse(real)
        if parsed.netloc not in ("", "localhost"):
            raise FetchError(f"{want.what}: {real}: file:// URLs must name a local path")
        src, limit = Path(urllib.parse.unquote(parsed.path)), self._limit(want)
        part.reset()
        try:
            with open(src, "rb") as f:
                while block := f.read(CHUNK):
                    if self.stop.is_set():
                        raise FetchError(f"{want.what}: interrupted")
                    if part.size + len(block) > limit:
                        part.write(block[: limit - part.size + 1])
                        break
                    part.write(block)
                    self.progress.advance(len(block))
        except OSError as exc:
            raise FetchError(f"{want.what}: cannot read {real}: {exc.strerror}") from None
        self._check(want, part)

    def _download(self, want: Wanted, part: PartFile) -> None:
        limit = self._limit(want)
        part.load(limit if want.sha256 else 0)
        if part.size:
            log.info("%s: resuming at byte %d of %s", self.http.shown(want.url), part.size, want.size)
            self.progress.advance(part.size)
        resumed = part.size > 0
        kept = f"kept in {part.path}, run the build again to resume" if want.sha256 else ""
        blocks = stream_blocks(
            self.http,
            want.url,
            what=want.what,
            size=want.size,
            offset=part.size,
            limit=limit,
            options=self.options,
            stop=self.stop,
            kept=kept,
        )
        for block in blocks:
            if block is None:
                self.progress.advance(-part.size)
                part.reset()
                continue
            part.write(block)
            self.progress.advance(len(block))
        if resumed and part.size == want.size and part.hexdigest() != want.sha256:
            # The bytes kept from an earlier run may be the bad ones: one clean download decides.
            log.warning("%s: checksum mismatch after resuming; downloading the whole file again", want.url)
            self.progress.advance(-part.size)
            part.reset()
            self._download(want, part)
            return
        self._check(want, part)


def options_for(http: Http) -> FetchOptions:
    """Options for a single download outside a build: as many tries as ``http`` allows."""
    return FetchOptions(jobs=1, attempts=http.retries + 1, backoff=http.backoff)


def download_to_cache(
    http: Http,
    url: str,
    cache: Path,
    *,
    what: str,
    sha256: str | None = None,
    options: FetchOptions | None = None,
    progress: TermProgress = NO_PROGRESS,
) -> Fetched:
    """Lock time: ``url`` into the cache, its sha256 learned while it streams (or checked, when given);
    a "download" bar on ``progress`` while it runs."""
    with progress.bar("download", files=1) as bar:
        bar.note(f"{what}: reading it once to learn its checksums")
        got = Downloader(http, cache, options or options_for(http), bar).fetch(Wanted(what, url, sha256))
        bar.file_done()
    return got


@dataclass(frozen=True)
class FetchResult:
    """Where each artifact's verified bytes are, and what had to be downloaded."""

    files: dict[str, Path]  # artifact path in the bundle -> cache file
    downloaded: tuple[str, ...]  # artifact paths fetched over the network (or copied from file://)
    cached: tuple[str, ...]  # artifact paths already in the cache (re-verified)


def fetch_one(
    http: Http,
    artifact: Artifact,
    cache: Path,
    *,
    options: FetchOptions | None = None,
    progress: Progress | None = None,
) -> Path:
    """Fetch one artifact into the cache (or find it there, re-verified) and return its path."""
    return Downloader(http, cache, options, progress).fetch(Wanted.of(artifact)).path


def _raise_together(errors: list[BundleError]) -> None:
    message = "; ".join(sorted(str(e) for e in errors))
    if len(errors) > 1:
        message = f"{len(errors)} artifacts failed: {message}"
    if any(isinstance(e, IntegrityError) for e in errors):
        raise IntegrityError(message)
    raise FetchError(message)


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
    progress = progress or NoProgress()
    jobs = max(1, options.jobs)
    if http is None:
        http = Http(session=new_session(pool_size=jobs))
    elif jobs > 8:
        http = Http(mirrors=http.mirrors, retries=http.retries, backoff=http.backoff, session=new_session(jobs))
    by_sha: dict[str, list[Artifact]] = {}
    for a in artifacts:
        by_sha.setdefault(a.sha256, []).append(a)
    downloader = Downloader(http, cache, options, progress)
    files: dict[str, Path] = {}
    downloaded: list[str] = []
    cached: list[str] = []
    errors: list[BundleError] = []
    # Largest first: the long downloads start early and the pool drains evenly.
    order = sorted(by_sha.values(), key=lambda group: -group[0].size)
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="fetch")
    try:
        futures = {pool.submit(downloader.fetch, Wanted.of(group[0])): group for group in order}
        for future in as_completed(futures):
            try:
                got = future.result()
            except BundleError as exc:
                errors.append(exc)
                continue
            for a in futures[future]:
                files[a.path] = got.path
                (cached if got.how == "cache" else downloaded).append(a.path)
                progress.finished(a, got.how)
    except BaseException as exc:
        downloader.stop.set()  # Ctrl-C: stop the running downloads (their .part files stay) and queued ones
        # Ctrl-C does not wait for a download stalled in a read (up to the stall timeout): the CLI exits
        # 130 at once and the .part is resumed, checked, by the next run.
        pool.shutdown(wait=not isinstance(exc, KeyboardInterrupt), cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if errors:
        _raise_together(errors)
    return FetchResult(files, tuple(sorted(downloaded)), tuple(sorted(cached)))
