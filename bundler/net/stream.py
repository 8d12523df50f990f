"""One URL's body as a stream of blocks: retried, resumed with Range, capped.  The downloader's read.

``stream_blocks`` reads through ``Http.open`` in 1 MiB blocks.  A lost connection, a stall (no byte
for ``stall_timeout``), a 5xx or 429 is retried with ``Range: bytes=N-`` (and ``If-Range`` once the
server named a validator, so a file changed upstream is not spliced), with backoff; ``attempts``
tries in a row without progress give up.  A server that ignores the Range (answers 200), refuses it
(416) or answers another range makes the consumer start over: the stream yields ``None``, then the
body from byte 0.  A 4xx is a ``FetchError`` at once.  The stream never yields more than the cap
(``limit``) plus one byte, so the consumer can tell there were too many.

``bundler.net.download`` drives it into a ``.part`` file; ``bundler.net.lockfetch.url_chunks`` hands
it to a tarball inspector that must see one unbroken read (``resume=False``).  Imports
``bundler.core.errors`` and ``bundler.net.http``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bundler.core.errors import FetchError
from bundler.net.http import Body, BrokenTransfer, Http

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
MAX_SIZE = 16 * 1024**3  # the largest download of unknown size (a regular stemcell is about 1 GB)


@dataclass(frozen=True)
class FetchOptions:
    jobs: int = 6  # parallel downloads of a build
    connect_timeout: float = 10.0
    stall_timeout: float = 30.0  # no byte for this long: the connection is dropped and resumed
    attempts: int = 4  # tries without progress before giving up on a download
    backoff: float = 0.5
    max_size: int = MAX_SIZE  # cap on a download whose size nobody told us


class _Retry(Exception):
    """A transient failure: resume from the bytes we have."""


@dataclass
class _Cursor:
    """How far the consumer has the body, and what ``If-Range`` may name."""

    pos: int
    validator: str | None = None


def _content_range_start(value: str) -> int | None:
    # "bytes 100-999/1000"
    try:
        unit, _, rest = value.partition(" ")
        return int(rest.split("-", 1)[0]) if unit == "bytes" else None
    except ValueError:
        return None


def _validator(headers: Mapping[str, str]) -> str | None:
    """What ``If-Range`` may name: a strong ETag, else Last-Modified."""
    etag = headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return headers.get("Last-Modified")


def _resume_point(status: int, headers: Mapping[str, str], offset: int) -> int:
    """Where the body of a response starts (0 or ``offset``), or ``_Retry``."""
    if status == 200:
        return 0
    if status == 206:
        start = _content_range_start(headers.get("Content-Range", ""))
        if start != offset:
            raise _Retry(f"server answered Content-Range {headers.get('Content-Range')!r}")
        return offset
    if status == 416 and offset:
        raise _Retry("HTTP 416 for the resume range")
    raise _Retry(f"HTTP {status}")


def _response_blocks(
    body: Body, cur: _Cursor, *, shown: str, prefix: str, size: int | None, limit: int, stop: threading.Event | None
) -> Iterator[bytes | None]:
    """The blocks of one response, ``cur.pos`` kept up to date; ``_Retry`` when it ends too early."""
    if 400 <= body.status < 500 and body.status not in (416, 429):
        raise FetchError(f"{prefix}GET {shown}: HTTP {body.status} {body.reason}")
    try:
        start = _resume_point(body.status, body.headers, cur.pos)
    except _Retry:
        if cur.pos and body.status < 500 and body.status != 429:
            cur.pos = 0
            yield None
        raise
    if start != cur.pos:
        log.info("%s: server ignored the Range request; starting over", shown)
        cur.pos = 0
        yield None
    cur.validator = cur.validator or _validator(body.headers)
    length = body.headers.get("Content-Length", "")
    end = cur.pos + int(length) if length.isdigit() else size
    for block in body.blocks(CHUNK):
        if stop is not None and stop.is_set():
            raise FetchError(f"{prefix}interrupted; {cur.pos} bytes kept to resume")
        if cur.pos + len(block) > limit:
            yield block[: limit - cur.pos + 1]
            return
        cur.pos += len(block)
        yield block
    if end is not None and cur.pos < end:
        raise _Retry(f"response ended after {cur.pos} of {end} bytes")


def stream_blocks(
    http: Http,
    url: str,
    *,
    what: str = "",
    size: int | None = None,
    offset: int = 0,
    limit: int,
    options: FetchOptions,
    stop: threading.Event | None = None,
    kept: str = "",
    resume: bool = True,
) -> Iterator[bytes | None]:
    """The body of ``url`` from byte ``offset`` in blocks, resumed after every transient failure.

    ``None`` tells the consumer to drop what it has: the body starts again at byte 0.  ``what``
    starts every message; ``kept`` ends the give-up message (where the bytes so far are kept).  With
    ``resume=False`` a body that breaks off after its first byte is a ``FetchError`` (failures before
    the first byte are still retried)."""
    cur, best, failures, last = _Cursor(offset), offset, 0, ""
    shown, prefix = http.shown(url), f"{what}: " if what else ""
    timeout = (options.connect_timeout, options.stall_timeout)
    while True:
        if failures >= options.attempts:
            have = f"; {cur.pos} of {size} bytes {kept}" if kept else ""
            raise FetchError(f"{prefix}GET {shown}: {last} (gave up after {failures} attempts without progress{have})")
        if failures:
            time.sleep(options.backoff * 2 ** (failures - 1))
        try:
            with http.open(url, offset=cur.pos, if_range=cur.validator, timeout=timeout) as body:
                yield from _response_blocks(body, cur, shown=shown, prefix=prefix, size=size, limit=limit, stop=stop)
            return
        except (_Retry, BrokenTransfer) as exc:
            last = str(exc)
            if not resume and cur.pos > offset:
                raise FetchError(
                    f"{prefix}GET {shown}: transfer failed after {cur.pos - offset} bytes ({last})"
                ) from None
            log.info("%s: %s; retrying from byte %d", shown, last, cur.pos)
            failures = 0 if cur.pos > best else failures + 1
            best = max(best, cur.pos)
