"""The two threads under a tarball scan: raw chunks in, hashed and gunzipped, tar bytes out.

``Inflation`` starts a reader thread, which pulls raw chunks (from a file or a download), feeds
the whole-file hashers and an optional sink, and an inflater thread, which gunzips them (several
concatenated gzip members allowed, zero padding after the last one ignored).  The calling thread
reads the tar bytes from ``Inflation.stream``, a ``ChunkStream`` that hands out memoryviews, so
large members are hashed without copying.  hashlib and zlib release the GIL on large buffers, so
the three stages overlap on two cores.  An exception in either thread is raised in the caller's
thread when it reads that far; leaving the ``with`` block stops and joins both threads.

Imports nothing of the project (``isal``, when installed, for a faster inflate).
"""

from __future__ import annotations

import queue
import threading
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

try:  # ISA-L's inflate is ~3x zlib's: the gunzip is then no longer the slowest stage (optional extra "fast")
    from isal import isal_zlib as _inflate_lib
except ImportError:  # pragma: no cover - plain zlib is always there
    _inflate_lib = zlib  # type: ignore[assignment]

CHUNK = 4 * 1024 * 1024
_QUEUE_DEPTH = 6


class _Cancelled(Exception):
    pass


def _put(q: queue.Queue, item: object, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.2)
            return
        except queue.Full:
            continue
    raise _Cancelled


def _get(q: queue.Queue, stop: threading.Event) -> object:
    while not stop.is_set():
        try:
            return q.get(timeout=0.2)
        except queue.Empty:
            continue
    raise _Cancelled


def _reader(
    chunks: Iterable[bytes],
    hashers: list[Any],
    sink: BinaryIO | None,
    out: queue.Queue,
    stop: threading.Event,
    counter: list[int],
) -> None:
    try:
        for chunk in chunks:
            if stop.is_set():
                return
            if not chunk:
                continue
            counter[0] += len(chunk)
            for h in hashers:
                h.update(chunk)
            if sink is not None:
                sink.write(chunk)
            _put(out, chunk, stop)
        _put(out, None, stop)
    except _Cancelled:
        return
    except BaseException as exc:  # handed to the consuming thread, which raises it
        try:
            _put(out, exc, stop)
        except _Cancelled:
            return


def _inflater(inq: queue.Queue, out: queue.Queue, stop: threading.Event) -> None:
    """Gunzip (several concatenated members allowed) from ``inq`` to ``out``; raw chunks in, tar bytes out."""
    d = _inflate_lib.decompressobj(16 + zlib.MAX_WBITS)
    seen_any = False
    try:
        while True:
            item = _get(inq, stop)
            if item is None:
                if seen_any and not d.eof:
                    raise EOFError("the gzip stream ends early (truncated download or file)")
                _put(out, None, stop)
                return
            if isinstance(item, BaseException):
                _put(out, item, stop)
                return
            data = item
            while data:
                if d.eof:
                    if not data.strip(b"\0"):
                        break  # zero padding after the last gzip member
                    d = _inflate_lib.decompressobj(16 + zlib.MAX_WBITS)
                seen_any = True
                try:
                    piece = d.decompress(data, CHUNK)
                except _inflate_lib.error as exc:
                    raise zlib.error(str(exc)) from None
                if piece:
                    _put(out, piece, stop)
                data = d.unused_data if d.eof else d.unconsumed_tail
    except _Cancelled:
        return
    except BaseException as exc:
        try:
            _put(out, exc, stop)
        except _Cancelled:
            return


class ChunkStream:
    """Reads a queue of byte chunks (``None`` ends it; an exception is raised here) without copying
    large data: ``pieces`` yields memoryviews of the chunks for hashing."""

    def __init__(self, q: queue.Queue, stop: threading.Event) -> None:
        self._q = q
        self._stop = stop
        self._chunk = memoryview(b"")
        self._done = False

    def _fill(self) -> bool:
        while not len(self._chunk):
            if self._done:
                return False
            item = _get(self._q, self._stop)
            if item is None:
                self._done = True
                return False
            if isinstance(item, BaseException):
                self._done = True
                raise item
            self._chunk = memoryview(item)
        return True

    def pieces(self, n: int) -> Iterator[memoryview]:
        """Exactly ``n`` bytes as consecutive views; ``EOFError`` if the stream ends first."""
        while n > 0:
            if not self._fill():
                raise EOFError("unexpected end of data")
            piece = self._chunk[:n]
            self._chunk = self._chunk[len(piece) :]
            n -= len(piece)
            yield piece

    def take(self, n: int) -> bytes:
        return b"".join(bytes(p) for p in self.pieces(n))

    def at_end(self) -> bool:
        return not self._fill()

    def drain(self) -> None:
        while self._fill():
            self._chunk = memoryview(b"")


class Inflation:
    """The reader and inflater threads for one pass over ``chunks``; a context manager."""

    def __init__(self, chunks: Iterable[bytes], hashers: Iterable[Any], sink: BinaryIO | None = None) -> None:
        self._stop = threading.Event()
        raw: queue.Queue = queue.Queue(_QUEUE_DEPTH)
        plain: queue.Queue = queue.Queue(_QUEUE_DEPTH)
        self._counter = [0]
        self._threads = [
            threading.Thread(
                target=_reader, args=(chunks, list(hashers), sink, raw, self._stop, self._counter), daemon=True
            ),
            threading.Thread(target=_inflater, args=(raw, plain, self._stop), daemon=True),
        ]
        self.stream = ChunkStream(plain, self._stop)

    @property
    def size(self) -> int:
        """Raw bytes read so far (all of them once the stream has been read to its end)."""
        return self._counter[0]

    def __enter__(self) -> Inflation:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


def file_chunks(path: Path, chunk: int = CHUNK) -> Iterator[bytes]:
    with open(path, "rb", buffering=0) as f:
        while True:
            piece = f.read(chunk)
            if not piece:
                return
            yield piece
