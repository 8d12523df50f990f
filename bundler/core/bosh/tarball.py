"""Reading a BOSH release or stemcell tarball in one streaming pass, never extracting it to disk.

``scan_tarball`` reads a ``.tgz`` once: the threads of ``stream.Inflation`` feed the whole-file
digests (sha256, sha1), an optional sink (to save a download while it is checked) and the gunzip;
this thread walks the tar stream, hashing every inner file (the sha1 ``release.MF`` and
``stemcell.MF`` promise; sha256 too for a release's jobs, packages and license) and keeping the
small ones that must be parsed: the top-level files (manifests) and, for each ``jobs/NAME.tgz``,
its file list and ``job.MF``.  The result is a ``TarballScan``; ``release.py`` and ``stemcell.py``
parse and validate it.  Names are kept without a leading ``./`` (``bosh create-release`` and
``bosh repack-stemcell`` write one, the stemcell builder does not; both are read alike).

Imports only ``bundler.core.bosh.stream``.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from bundler.core.bosh.stream import ChunkStream, Inflation, file_chunks

_KEEP_SMALL = 1024 * 1024  # manifests and other small files kept in memory for parsing
_KEEP_JOB = 64 * 1024 * 1024  # job tarballs are small; larger ones are hashed but not opened


@dataclass(frozen=True)
class Member:
    """A regular file inside the tarball: its size and digests (sha1 always; sha256 for releases' parts)."""

    size: int
    sha1: str
    sha256: str | None = None


@dataclass(frozen=True)
class JobArchive:
    files: frozenset[str]  # names inside the job tarball, without "./"
    job_mf: bytes | None
    error: str | None = None


@dataclass
class TarballScan:
    """What one pass over a tarball saw.  ``error`` is set when the stream could not be read to its end."""

    size: int = 0  # bytes of the tarball itself
    digests: dict[str, str] = field(default_factory=dict)  # whole-file digests asked for
    members: dict[str, Member] = field(default_factory=dict)  # name without "./" -> digests
    dot_prefixed: bool = False  # names started with "./"
    small: dict[str, bytes] = field(default_factory=dict)  # contents of *.MF and other small top files
    jobs: dict[str, JobArchive] = field(default_factory=dict)  # jobs/NAME.tgz -> what is inside
    error: str | None = None
    error_member: str | None = None


@dataclass(frozen=True)
class _Entry:
    name: str
    size: int
    type: bytes


def _tar_entries(stream: ChunkStream) -> Iterator[_Entry]:
    """The entries of a tar stream (ustar, GNU long names, pax paths); the caller must consume each
    entry's ``size`` bytes (padding is skipped here) before asking for the next."""
    long_name: str | None = None
    pax: dict[str, str] = {}
    while True:
        if stream.at_end():
            return  # some writers omit the end-of-archive blocks
        block = stream.take(512)
        if block == bytes(512):
            return
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError as exc:
            raise tarfile.ReadError(f"bad tar header ({exc})") from None
        size = int(pax.get("size", info.size))
        padding = -size % 512
        if info.type in (tarfile.GNUTYPE_LONGNAME, tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.GNUTYPE_LONGLINK):
            data = stream.take(size)
            stream.take(padding)
            if info.type == tarfile.GNUTYPE_LONGNAME:
                long_name = data.rstrip(b"\0").decode("utf-8", "surrogateescape")
            elif info.type == tarfile.XHDTYPE:
                pax = _pax_records(data)
            continue
        name = pax.get("path") or long_name or info.name
        long_name, pax = None, {}
        if info.type not in tarfile.REGULAR_TYPES:
            continue  # directories, links and devices carry no data
        yield _Entry(name, size, info.type)
        stream.take(padding)


def _pax_records(data: bytes) -> dict[str, str]:
    out, pos = {}, 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        length = int(data[pos:space])
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        out[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


def _hash_member(stream: ChunkStream, size: int, with_sha256: bool, keep: int) -> tuple[Member, bytes | None]:
    sha1 = hashlib.sha1()
    sha256 = hashlib.sha256() if with_sha256 else None
    kept: list[bytes] | None = [] if size <= keep else None
    for piece in stream.pieces(size):
        sha1.update(piece)
        if sha256 is not None:
            sha256.update(piece)
        if kept is not None:
            kept.append(bytes(piece))
    return (
        Member(size, sha1.hexdigest(), sha256.hexdigest() if sha256 else None),
        b"".join(kept) if kept is not None else None,
    )


def _open_job(data: bytes) -> JobArchive:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            files, job_mf = set(), None
            for m in tar:
                name = _strip(m.name)
                if m.isfile():
                    files.add(name)
                    if name == "job.MF":
                        f = tar.extractfile(m)
                        job_mf = f.read() if f else None
            return JobArchive(frozenset(files), job_mf)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        return JobArchive(frozenset(), None, f"cannot be read as a gzip tarball ({exc})")


def _strip(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


def _wants_sha256(name: str) -> bool:
    return name.startswith(("jobs/", "packages/", "compiled_packages/", "license"))


def _walk(stream: ChunkStream, scan: TarballScan) -> None:
    """Hash every member into ``scan``; on a reading error, ``scan.error_member`` names the one being read."""
    for entry in _tar_entries(stream):
        current = scan.error_member = _strip(entry.name)
        if entry.name.startswith("./"):
            scan.dot_prefixed = True
        is_job = current.startswith("jobs/") and current.endswith(".tgz")
        keep = _KEEP_JOB if is_job else (_KEEP_SMALL if "/" not in current else 0)
        member, data = _hash_member(stream, entry.size, _wants_sha256(current), keep)
        scan.members[current] = member
        if is_job and data is not None:
            scan.jobs[current] = _open_job(data)
        elif data is not None:
            scan.small[current] = data
    scan.error_member = None
    stream.drain()  # every byte is hashed, even past the end-of-archive blocks


def scan_tarball(
    chunks: Iterable[bytes],
    *,
    digests: Iterable[str] = (),
    sink: BinaryIO | None = None,
) -> TarballScan:
    """Read a gzipped BOSH tarball from ``chunks`` once; see the module docstring.

    ``digests`` names whole-file hashes to compute on the way ("sha256", "sha1"); ``sink`` receives
    every raw byte (to save a download while it is checked).  Never raises for a damaged tarball:
    the reason is in ``error`` (and ``error_member``); exceptions from ``chunks`` itself propagate.
    """
    scan = TarballScan()
    hashers = {name: hashlib.new(name) for name in digests}
    with Inflation(chunks, hashers.values(), sink) as pipe:
        try:
            _walk(pipe.stream, scan)
        except (tarfile.TarError, zlib.error, EOFError, OSError) as exc:
            scan.error = _describe(exc)
        # any other exception comes from the chunk source (a failed download), not the tarball: it propagates
    scan.size = pipe.size
    if scan.size == 0 and scan.error is None:
        scan.error = "is empty"
    scan.digests = {name: h.hexdigest() for name, h in hashers.items()} if scan.error is None else {}
    return scan


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or "unexpected end" in text or "ends early" in text:
        return f"is truncated ({text})"
    if isinstance(exc, zlib.error) or "zlib" in text or "gzip" in text:
        return f"is not a gzip-compressed tarball ({text})"
    if "empty file" in text:
        return "is empty"
    return f"is not a readable tar archive ({text})"


def scan_problem(scan: TarballScan) -> str | None:
    """The reading error as one sentence naming the inner file being read, or None."""
    if not scan.error:
        return None
    where = f" (while reading {scan.error_member})" if scan.error_member else ""
    return f"the tarball {scan.error}{where}"


def scan_file(path: Path, digests: Iterable[str] = ()) -> TarballScan:
    return scan_tarball(file_chunks(Path(path)), digests=digests)
