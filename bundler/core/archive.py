"""The bundle's payload: a 7z archive (py7zr, COPY filter), whole or split into volumes.

Artifacts are already compressed (debs, gems, tarballs), so members are stored with the COPY
filter: packing runs at disk speed and, in an unencrypted archive, each member's bytes sit
contiguously at a known offset.  ``Payload`` uses that to read members straight from the volumes
(in parallel, without py7zr decoding) and falls back to py7zr's streaming extraction for encrypted
or foreign archives.  The volumes (``payload.7z.001``, ``.002``, …) are written and read through
``bundler.core.volumes``.

``--encrypt`` uses 7z's AES-256 with encrypted headers: without the password nothing, not even the
member names, can be read; the password comes from ``bundler.core.password``'s variable.
Imports ``bundler.core`` and py7zr (and isal when installed).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import py7zr
import py7zr.exceptions
from py7zr.io import Py7zIO, WriterFactory

from bundler.core.errors import InputError, IntegrityError
from bundler.core.password import ENV as PASSWORD_ENV
from bundler.core.progress import NULL_BAR, NullBar
from bundler.core.volumes import VolumeReader, VolumeWriter, find_volumes

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

CHUNK = 1024 * 1024
_COPY = b"\x00"


def write_payload(
    out_dir: Path,
    members: Sequence[tuple[str, Path]],
    *,
    volume_size: int | None = None,
    password: str | None = None,
    progress: NullBar = NULL_BAR,
) -> list[Path]:
    """Pack ``(member path, file)`` pairs (sorted by member path) into ``out_dir``; returns the volumes.

    ``progress`` advances by the bytes written and by one file per member."""
    filters: list[dict[str, int]] = [{"id": py7zr.FILTER_COPY}]
    if password is not None:
        filters.append({"id": py7zr.FILTER_CRYPTO_AES256_SHA256})
    target = VolumeWriter(out_dir, volume_size, on_write=progress.advance)
    try:
        with py7zr.SevenZipFile(
            target, "w", filters=filters, password=password, header_encryption=password is not None
        ) as z:
            for name, path in sorted(members):
                z.write(path, arcname=name)
                progress.file_done()
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
