"""The payload's volumes: ``payload.7z`` whole, or split into ``payload.7z.001``, ``.002``, … (7-Zip's naming).

``VolumeWriter`` is the seekable file py7zr writes the archive into, spread over volumes of at most
``--volume-size`` bytes (``parse_size``; ``4g`` is FAT32's largest file); ``VolumeReader`` is their
concatenation as one read-only, seekable file with a thread-safe ``pread``.  Only the volumes named
here are ever opened.  ``find_volumes`` lists a bundle's volumes in order (gaps are the caller's to
report).  Imports only ``bundler.core.errors``.
"""

from __future__ import annotations

import io
import os
import queue
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from bundler.core.errors import InputError

PAYLOAD = "payload.7z"
FAT32_MAX = 2**32 - 1
_VOLUME = re.compile(r"^payload\.7z\.(\d{3,})$")


def parse_size(text: str) -> int:
    """``4g``, ``700m``, ``512k`` or plain bytes (binary multiples).  ``4g`` means the largest file
    FAT32 can hold (4 GiB - 1 byte), since that is what it is for."""
    m = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)i?b?\s*", text.lower())
    if not m:
        raise InputError(f"--volume-size {text!r}: expected a size such as 4g, 700m or 512k")
    size = int(m.group(1)) * 1024 ** " kmgt".index(m.group(2) or " ")
    if size == 2**32:
        size = FAT32_MAX
    if size < 64 * 1024:
        raise InputError(f"--volume-size {text!r}: volumes must hold at least 64k")
    return size


def volume_name(index: int) -> str:
    return f"{PAYLOAD}.{index:03d}"


def find_volumes(bundle_dir: Path) -> list[Path]:
    """``payload.7z`` or the numbered volumes in order (gaps are the caller's to report)."""
    bundle_dir = Path(bundle_dir)
    single = bundle_dir / PAYLOAD
    numbered = []
    for entry in bundle_dir.iterdir():
        m = _VOLUME.match(entry.name)
        if m:
            numbered.append((int(m.group(1)), entry))
    if single.exists() and not numbered:
        return [single]
    return [p for _, p in sorted(numbered)]


class VolumeWriter(io.RawIOBase):
    """A seekable, writable file spread over ``payload.7z.001``, ``.002``…, each at most ``size`` bytes
    (or one ``payload.7z`` when ``size`` is None).

    Writes are handed to a background thread, so the disk writes overlap py7zr's reading and CRC
    computation on the other core; ``close`` waits for them and raises the first write error.
    """

    def __init__(
        self, directory: Path, size: int | None, depth: int = 16, on_write: Callable[[int], None] | None = None
    ) -> None:
        super().__init__()
        self.on_write = on_write
        self.directory = Path(directory)
        self.volume_size = size
        self.files: list[io.BufferedRandom] = []
        self.paths: list[Path] = []
        self.pos = 0
        self.end = 0
        self._queue: queue.Queue[tuple[int, bytes] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="payload-writer", daemon=True)
        self._thread.start()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.end}[whence]
        self.pos = base + offset
        return self.pos

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._error is not None:
            raise self._error
        block = data if isinstance(data, bytes) else bytes(data)
        self._queue.put((self.pos, block))
        if self.on_write is not None:
            self.on_write(len(block))
        self.pos += len(block)
        self.end = max(self.end, self.pos)
        return len(block)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._write_at(*item)
                except BaseException as exc:  # reported by write() or close()
                    self._error = exc

    def _volume(self, index: int) -> io.BufferedRandom:
        while len(self.files) <= index:
            name = PAYLOAD if self.volume_size is None else volume_name(len(self.files) + 1)
            path = self.directory / name
            self.files.append(open(path, "w+b"))  # noqa: SIM115 - closed in close()
            self.paths.append(path)
        return self.files[index]

    def _write_at(self, pos: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self.volume_size is None:
                index, offset, n = 0, pos, len(view)
            else:
                index, offset = divmod(pos, self.volume_size)
                n = min(len(view), self.volume_size - offset)
            f = self._volume(index)
            f.seek(offset)
            f.write(view[:n])
            view = view[n:]
            pos += n

    def flush(self) -> None:
        pass  # close() drains the queue; py7zr's flushes need not wait for the disk

    def close(self) -> None:
        if not self.closed:
            self._queue.put(None)
            self._thread.join()
            for f in self.files:
                try:
                    f.close()
                except OSError as exc:
                    self._error = self._error or exc
            self.files = []
            super().close()
            if self._error is not None:
                raise self._error


class VolumeReader(io.RawIOBase):
    """The concatenation of the given files as one read-only, seekable file; ``pread`` is thread-safe."""

    def __init__(self, paths: Sequence[Path]) -> None:
        super().__init__()
        self.paths = [Path(p) for p in paths]
        self.fds = [os.open(p, os.O_RDONLY) for p in self.paths]
        self.starts = []
        total = 0
        for fd in self.fds:
            self.starts.append(total)
            total += os.fstat(fd).st_size
        self.size = total
        self.pos = 0
        self.name = str(self.paths[0]) if self.paths else ""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def pread(self, offset: int, n: int) -> bytes:
        out = []
        while n > 0 and offset < self.size:
            i = _volume_index(self.starts, offset)
            block = os.pread(self.fds[i], n, offset - self.starts[i])
            if not block:
                break
            out.append(block)
            offset += len(block)
            n -= len(block)
        return b"".join(out)

    def readinto(self, buffer) -> int:
        data = self.pread(self.pos, len(buffer))
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            for fd in self.fds:
                os.close(fd)
        super().close()


def _volume_index(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo
