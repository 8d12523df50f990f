"""Downloads made while locking: when upstream publishes no sha256 (or no size), we must read the file.

``bosh-bundle lock`` needs a sha256 and size for every artifact.  bosh.io gives only a sha1 for
most releases, and a binary may come with no checksum at all, so the resolver downloads the file
once, hashing it as it streams, and keeps the verified bytes in the content-addressed cache (where
``bosh-bundle build`` finds them, so nothing is downloaded twice).  What it learned is remembered
in a small JSON index keyed by the upstream checksum or URL, so locking again reads nothing.

A file that is only hashed is fetched with ``bundler.net.download.download_to_cache``.  A file that
is also inspected as it streams (a bosh.io tarball) is read with ``url_chunks`` (``bundler.net.stream``'s
``stream_blocks`` in one unbroken read, capped at ``MAX_SIZE``) into the ``cache_sink`` (a scratch
``.part`` of ``bundler.net.partfile``), inside ``retrying``, which starts over when the transfer
breaks off.  ``download_bar`` and ``counted`` show such a download's progress (bytes, rate, time left;
its size from a ``HEAD``, asked only when the bar is drawn).  Imports ``bundler.core`` (errors,
progress) and ``bundler.net``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from bundler.core.errors import FetchError, IntegrityError
from bundler.core.progress import NullBar, TermProgress
from bundler.net.cache import artifact_path, index_dir
from bundler.net.download import options_for
from bundler.net.http import Http
from bundler.net.partfile import PartFile
from bundler.net.stream import MAX_SIZE, stream_blocks

T = TypeVar("T")

log = logging.getLogger(__name__)


def url_chunks(http: Http, url: str, *, limit: int = MAX_SIZE) -> Iterator[bytes]:
    """The body of ``url`` (mirrors applied) in chunks, exactly as sent, at most ``limit`` bytes, in
    one unbroken read: a transfer that breaks off raises ``FetchError`` (``retrying`` starts over),
    too many bytes ``IntegrityError``.  Connection failures and 5xx before the first byte are retried."""
    got = 0
    for block in stream_blocks(http, url, limit=limit, options=options_for(http), resume=False):
        assert block is not None  # no Range is asked for, so nothing restarts
        got += len(block)
        if got > limit:
            raise IntegrityError(f"GET {http.shown(url)}: more than {limit} bytes; refusing it")
        yield block


@contextlib.contextmanager
def download_bar(progress: TermProgress, http: Http, url: str, what: str) -> Iterator[NullBar]:
    """A "download" bar for one lock-time download of ``what``; closed when the block ends."""
    total = 0
    if progress.enabled:
        try:
            status, headers = http.head(url)
            length = str(headers.get("Content-Length", ""))
            total = int(length) if status == 200 and length.isdigit() else 0
        except FetchError:
            pass  # the GET will say what is wrong
    bar = progress.bar("download", total, files=1)
    bar.note(f"{what}: reading it once to learn its checksums")
    try:
        yield bar
        bar.file_done()
    finally:
        bar.close()


def counted(blocks: Iterator[bytes], bar: NullBar) -> Iterator[bytes]:
    """``blocks`` unchanged, each one's size added to ``bar``."""
    for block in blocks:
        bar.advance(len(block))
        yield block


def retrying(http: Http, what: str, download: Callable[[], T]) -> T:
    """Run ``download`` again (from the start) when the transfer breaks, as often as ``http.retries``."""
    for attempt in range(http.retries + 1):
        try:
            return download()
        except FetchError as exc:
            if attempt == http.retries:
                raise
            log.warning("%s: %s; trying again", what, exc)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def cache_sink(cache: Path) -> Iterator[tuple[PartFile, list[Path]]]:
    """A scratch ``.part`` in the cache to stream a download into (``write``, ``flush``).  Append the
    cache path to the yielded list (``keep_as``) to move it there on success; otherwise it is removed.
    A cache path named by a sha256 must be the sha256 of what was written."""
    sink = PartFile.scratch_in(cache)
    keep_as: list[Path] = []
    try:
        yield sink, keep_as
        if keep_as:
            got = sink.hexdigest()
            if keep_as[0].parent.parent.name == "sha256" and keep_as[0].name != got:
                raise IntegrityError(f"{sink.path}: sha256 is {got}, not {keep_as[0].name}; not kept")
            sink.commit(keep_as[0])
    finally:
        sink.close()


def keep(cache: Path, sha256: str) -> Path:
    return artifact_path(cache, sha256)


def _index_file(cache: Path, kind: str, key: str) -> Path:
    return index_dir(cache, kind) / (hashlib.sha256(key.encode()).hexdigest() + ".json")


def remembered(cache: Path, kind: str, key: str) -> dict[str, Any] | None:
    """What an earlier lock learned about ``key``, if its verified file is still in the cache."""
    path = _index_file(cache, kind, key)
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(facts, dict) or not artifact_path(cache, str(facts.get("sha256", ""))).is_file():
        return None
    return facts


def remember(cache: Path, kind: str, key: str, facts: dict[str, Any]) -> None:
    path = _index_file(cache, kind, key)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(facts, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
