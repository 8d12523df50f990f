"""The bundle's payload: a 7z archive (py7zr, COPY filter), whole or split into volumes.

Artifacts are already compressed (debs, gems, tarballs), so members are stored with the COPY
filter: packing runs at disk speed and, in an unencrypted archive, each member's bytes sit
contiguously at a known offset.  ``Payload`` uses that to read members straight from the volumes
(in parallel, without py7zr decoding) and falls back to py7zr's streaming extraction for encrypted
or foreign archives.  Volumes are ``payload.7z.001``, ``.002``, … (7-Zip's naming) written and read
by our own small volume file objects, so only the volumes we name are ever opened.

``--encrypt`` uses 7z's AES-256 with encrypted headers: without the password nothing, not even the
member names, can be read.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import re
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import py7zr
import py7zr.exceptions
from py7zr.io import Py7zIO, WriterFactory

from bundler.core.errors import InputError, IntegrityError

log = logging.getLogger(__name__)


def _use_fast_crc32() -> None:
    """Let py7zr compute its CRC32s with ISA-L (about 8 GB/s here, zlib's 1.5 GB/s).

    py7zr checksums every block twice when storing (member CRC and packed-stream CRC), which made
    packing half as fast as ``tar cf``.  ``isal_zlib.crc32`` returns exactly ``zlib.crc32``'s value,
    so swapping the function py7zr's compressor calls changes speed only.  Without isal (the
    project's optional ``fast`` extra) nothing changes.
    """
    try:
        from isal import isal_zlib
    except ImportError:
        return
    import py7zr.compressor

    def crc32(data: bytes, value: int = 0, blocksize: int = 0) -> int:
        return isal_zlib.crc32(data, value) & 0xFFFFFFFF

    py7zr.compressor.calculate_crc32 = crc32


_use_fast_crc32()

PAYLOAD = "payload.7z"
CHUNK = 1024 * 1024
FAT32_MAX = 2**32 - 1
PASSWORD_ENV = "BOSH_BUNDLE_PASSWORD"  # also bundler.core.password.ENV
_COPY = b"\x00"
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

    def __init__(self, directory: Path, size: int | None, depth: int = 16) -> None:
        super().__init__()
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


def write_payload(
    out_dir: Path,
    members: Sequence[tuple[str, Path]],
    *,
    volume_size: int | None = None,
    password: str | None = None,
) -> list[Path]:
    """Pack ``(member path, file)`` pairs (sorted by member path) into ``out_dir``; returns the volumes."""
    filters: list[dict[str, int]] = [{"id": py7zr.FILTER_COPY}]
    if password is not None:
        filters.append({"id": py7zr.FILTER_CRYPTO_AES256_SHA256})
    target = VolumeWriter(out_dir, volume_size)
    try:
        with py7zr.SevenZipFile(
            target, "w", filters=filters, password=password, header_encryption=password is not None
        ) as z:
            for name, path in sorted(members):
                z.write(path, arcname=name)
    finally:
        target.close()
    return target.paths


@dataclass(frozen=True)
class Member:
    """One entry of the payload as its header describes it."""

    name: str
    size: int
    type: str  # "file", "dir", "symlink" or "other" (junction, socket, device…)
    offset: int | None  # where its bytes start in the volumes (unencrypted COPY archives), else None


class _Sink(Py7zIO):
    def __init__(self, name: str, on_data: Callable[[str, bytes], None]) -> None:
        self.name = name
        self.on_data = on_data
        self.n = 0

    def write(self, s: bytes | bytearray) -> int:
        self.on_data(self.name, bytes(s))
        self.n += len(s)
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        pass

    def size(self) -> int:
        return self.n


class _SinkFactory(WriterFactory):
    def __init__(self, on_data: Callable[[str, bytes], None]) -> None:
        self.on_data = on_data

    def create(self, filename: str) -> Py7zIO:
        return _Sink(filename, self.on_data)


def needs_password(bundle_dir: Path) -> bool:
    """The payload's headers are encrypted and no password is at hand (``$BOSH_BUNDLE_PASSWORD``)."""
    try:
        with Payload(find_volumes(bundle_dir)):
            return False
    except InputError:
        return True
    except Exception:
        return False  # a damaged payload: the verification says what is wrong


class Payload:
    """An open payload: its members, and two ways to read them (direct offsets or py7zr streaming)."""

    def __init__(self, volumes: Sequence[Path], password: str | None = None) -> None:
        """Open the payload; an encrypted one needs ``password`` (default: ``$BOSH_BUNDLE_PASSWORD``)."""
        if not volumes:
            raise IntegrityError("the bundle has no payload (payload.7z or payload.7z.001…)")
        self.volumes = list(volumes)
        self.reader = VolumeReader(volumes)
        self.password = password
        try:
            try:
                self.archive = py7zr.SevenZipFile(self.reader, "r", password=password)
            except py7zr.exceptions.PasswordRequired:
                if password is not None or not os.environ.get(PASSWORD_ENV):
                    raise
                self.password = password = os.environ[PASSWORD_ENV]
                self.reader.seek(0)
                self.archive = py7zr.SevenZipFile(self.reader, "r", password=password)
        except py7zr.exceptions.PasswordRequired:
            self.reader.close()
            raise InputError(
                "the payload is encrypted: set BOSH_BUNDLE_PASSWORD or run on a terminal to be asked"
            ) from None
        except Exception as exc:  # py7zr raises many types for damaged archives
            self.reader.close()
            hint = " (wrong password?)" if password is not None else ""
            raise IntegrityError(f"{self.volumes[0].name}: the payload cannot be read{hint}: {exc}") from None
        self.members = self._members()

    def __enter__(self) -> Payload:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.archive.close()
        self.reader.close()

    @property
    def direct(self) -> bool:
        """True when every file member can be read straight from the volumes."""
        return all(m.offset is not None for m in self.members if m.type == "file" and m.size)

    def _members(self) -> list[Member]:
        offsets = self._direct_offsets()
        out = []
        for f in self.archive.files:
            fmt = f.st_fmt
            if f.is_directory:
                kind = "dir"
            elif f.is_symlink:
                kind = "symlink"
            elif f.is_junction or f.is_socket or (fmt is not None and fmt != stat.S_IFREG):
                kind = "other"
            else:
                kind = "file"
            size = 0 if f.emptystream else int(f.uncompressed or 0)
            out.append(Member(f.filename, size, kind, offsets.get(f.id) if offsets else None))
        return out

    def _direct_offsets(self) -> dict[int, int] | None:
        header = self.archive.header
        streams = getattr(header, "main_streams", None)
        if self.password is not None or streams is None or streams.unpackinfo is None:
            return None
        folders = streams.unpackinfo.folders
        positions = streams.packinfo.packpositions
        sizes = streams.packinfo.packsizes
        offsets: dict[int, int] = {}
        for i, folder in enumerate(folders):
            if [c.get("method") for c in folder.coders] != [_COPY]:
                return None
            start = self.archive.afterheader + positions[i]
            pos = start
            for f in folder.files or ():
                if f.emptystream:
                    continue
                offsets[f.id] = pos
                pos += int(f.uncompressed)
            if pos - start != sizes[i] or pos > self.reader.size:
                return None
        return offsets

    def iter_member(self, member: Member, chunk: int = CHUNK) -> Iterator[bytes]:
        """The bytes of a directly addressable member, read from the volumes (thread-safe)."""
        if member.size == 0:
            return
        if member.offset is None:
            raise ValueError(f"{member.name} is not directly addressable")
        pos, end = member.offset, member.offset + member.size
        while pos < end:
            block = self.reader.pread(pos, min(chunk, end - pos))
            if not block:
                raise IntegrityError(f"payload member {member.name}: the volumes end before its last byte")
            pos += len(block)
            yield block

    def stream(self, on_data: Callable[[str, bytes], None], names: Sequence[str] | None = None) -> None:
        """Decode members with py7zr, calling ``on_data(name, bytes)`` as their bytes come (one pass)."""
        try:
            self.archive.reset()
            self.archive.extract(targets=list(names) if names is not None else None, factory=_SinkFactory(on_data))
        except (IntegrityError, InputError):
            raise
        except Exception as exc:
            raise IntegrityError(f"{self.volumes[0].name}: the payload cannot be decoded: {exc}") from None
