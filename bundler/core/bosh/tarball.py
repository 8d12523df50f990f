"""Reading BOSH release and stemcell tarballs in one streaming pass, and checking what they claim.

How the pieces fit: ``scan_tarball`` reads a ``.tgz`` once, never extracting to disk.  A reader
thread pulls raw chunks (from a file or a download), feeds the whole-file digests (sha256, sha1)
and optionally writes them to a sink; an inflater thread gunzips them; the calling thread walks the
tar stream, hashing every inner file (the sha1 ``release.MF`` and ``stemcell.MF`` promise) and
keeping the small ones it must parse (the manifests, each job's ``job.MF`` and file list).  hashlib
and zlib release the GIL on large buffers, so on two cores the cost is close to one hash of the
file.  The result is a ``TarballScan``; ``parse_release``/``parse_stemcell`` turn its manifest into
the dataclasses below (mirroring ``release.MF`` and ``stemcell.MF`` field for field), and
``validate_release``/``validate_stemcell`` return *every* problem, each naming the artifact and
the inner file, like bosh-cli's validators.
"""

from __future__ import annotations

import hashlib
import io
import queue
import re
import tarfile
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml

try:  # ISA-L's inflate is ~3x zlib's: the gunzip is then no longer the slowest stage (optional extra "fast")
    from isal import isal_zlib as _inflate_lib
except ImportError:  # pragma: no cover - plain zlib is always there
    _inflate_lib = zlib  # type: ignore[assignment]

CHUNK = 4 * 1024 * 1024
_KEEP_SMALL = 1024 * 1024  # manifests and other small files kept in memory for parsing
_KEEP_JOB = 64 * 1024 * 1024  # job tarballs are small; larger ones are hashed but not opened
_QUEUE_DEPTH = 6
_AMI = re.compile(r"^ami-[0-9a-f]{8,17}$")


# --- the manifests, field for field ------------------------------------------------------------


@dataclass(frozen=True)
class JobRef:
    name: str
    version: str
    fingerprint: str
    sha1: str


@dataclass(frozen=True)
class PackageRef:
    name: str
    version: str
    fingerprint: str
    sha1: str
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompiledPackageRef:
    name: str
    version: str
    fingerprint: str
    sha1: str
    stemcell: str
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class LicenseRef:
    version: str
    fingerprint: str
    sha1: str


@dataclass(frozen=True)
class ReleaseManifest:
    """``release.MF``."""

    name: str
    version: str
    commit_hash: str = ""
    uncommitted_changes: bool = False
    jobs: tuple[JobRef, ...] = ()
    packages: tuple[PackageRef, ...] = ()
    compiled_packages: tuple[CompiledPackageRef, ...] = ()
    license: LicenseRef | None = None


@dataclass(frozen=True)
class JobManifest:
    """``job.MF`` inside ``jobs/NAME.tgz``."""

    name: str
    templates: Mapping[str, str] = field(default_factory=dict)  # source under templates/ -> destination
    packages: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()


@dataclass(frozen=True)
class StemcellManifest:
    """``stemcell.MF``."""

    name: str
    version: str
    bosh_protocol: str = ""
    sha1: str = ""  # of ``image`` (of the original heavy image for a light stemcell)
    operating_system: str = ""
    cloud_properties: Mapping[str, Any] = field(default_factory=dict)
    api_version: int | None = None
    stemcell_formats: tuple[str, ...] = ()

    @property
    def ami(self) -> dict[str, str]:
        ami = self.cloud_properties.get("ami")
        return {str(k): str(v) for k, v in ami.items()} if isinstance(ami, Mapping) else {}


# --- one streaming pass ------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A regular file inside the tarball: its size and digests (sha1 always; sha256 for releases' parts)."""

    size: int
    sha1: str
    sha256: str | None = None


@dataclass
class TarballScan:
    """What one pass over a tarball saw.  ``error`` is set when the stream could not be read to its end."""

    size: int = 0  # bytes of the tarball itself
    digests: dict[str, str] = field(default_factory=dict)  # whole-file digests asked for
    members: dict[str, Member] = field(default_factory=dict)  # name without "./" -> digests
    dot_prefixed: bool = False  # names started with "./" (releases) or not (stemcells)
    small: dict[str, bytes] = field(default_factory=dict)  # contents of *.MF and other small top files
    jobs: dict[str, JobArchive] = field(default_factory=dict)  # jobs/NAME.tgz -> what is inside
    error: str | None = None
    error_member: str | None = None


@dataclass(frozen=True)
class JobArchive:
    files: frozenset[str]  # names inside the job tarball, without "./"
    job_mf: bytes | None
    error: str | None = None


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


class _ChunkStream:
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


@dataclass(frozen=True)
class _Entry:
    name: str
    size: int
    type: bytes


def _tar_entries(stream: _ChunkStream) -> Iterator[_Entry]:
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


def _hash_member(stream: _ChunkStream, size: int, with_sha256: bool, keep: int) -> tuple[Member, bytes | None]:
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
    stop = threading.Event()
    raw: queue.Queue = queue.Queue(_QUEUE_DEPTH)
    plain: queue.Queue = queue.Queue(_QUEUE_DEPTH)
    counter = [0]
    threads = [
        threading.Thread(target=_reader, args=(chunks, list(hashers.values()), sink, raw, stop, counter), daemon=True),
        threading.Thread(target=_inflater, args=(raw, plain, stop), daemon=True),
    ]
    for t in threads:
        t.start()
    stream = _ChunkStream(plain, stop)
    current: str | None = None
    source_error: BaseException | None = None
    try:
        for entry in _tar_entries(stream):
            current = _strip(entry.name)
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
        current = None
        stream.drain()  # every byte is hashed, even past the end-of-archive blocks
    except (tarfile.TarError, zlib.error, EOFError, OSError) as exc:
        scan.error = _describe(exc)
        scan.error_member = current
    except Exception as exc:  # an error from the chunk source (a failed download), not the tarball
        source_error = exc
    finally:
        stop.set()
        for t in threads:
            t.join()
    if source_error is not None:
        raise source_error
    scan.size = counter[0]
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


def file_chunks(path: Path, chunk: int = CHUNK) -> Iterator[bytes]:
    with open(path, "rb", buffering=0) as f:
        while True:
            piece = f.read(chunk)
            if not piece:
                return
            yield piece


def scan_file(path: Path, digests: Iterable[str] = ()) -> TarballScan:
    return scan_tarball(file_chunks(Path(path)), digests=digests)


# --- parsing the manifests ---------------------------------------------------------------------


def _load_yaml(data: bytes, what: str, problems: list[str]) -> dict | None:
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        problems.append(f"{what} is not valid YAML ({str(exc).splitlines()[0]})")
        return None
    if not isinstance(doc, dict):
        problems.append(f"{what} is not a YAML mapping")
        return None
    return doc


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _refs(doc: dict, key: str, what: str, problems: list[str], build: Callable[[dict], Any]) -> tuple:
    raw = doc.get(key) or []
    if not isinstance(raw, list):
        problems.append(f"{what}: '{key}' is not a list")
        return ()
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not item.get("name"):
            problems.append(f"{what}: {key}[{i}] has no name")
            continue
        out.append(build(item))
    return tuple(out)


def _deps(item: dict) -> tuple[str, ...]:
    return tuple(_s(d) for d in item.get("dependencies") or ())


def parse_release(scan: TarballScan) -> tuple[ReleaseManifest | None, list[str]]:
    problems: list[str] = []
    data = scan.small.get("release.MF")
    if data is None:
        return None, ["release.MF is missing"]
    doc = _load_yaml(data, "release.MF", problems)
    if doc is None:
        return None, problems
    for key in ("name", "version"):
        if not doc.get(key):
            problems.append(f"release.MF has no '{key}'")
    lic = doc.get("license")
    manifest = ReleaseManifest(
        name=_s(doc.get("name")),
        version=_s(doc.get("version")),
        commit_hash=_s(doc.get("commit_hash")),
        uncommitted_changes=bool(doc.get("uncommitted_changes")),
        jobs=_refs(
            doc,
            "jobs",
            "release.MF",
            problems,
            lambda j: JobRef(_s(j["name"]), _s(j.get("version")), _s(j.get("fingerprint")), _s(j.get("sha1"))),
        ),
        packages=_refs(
            doc,
            "packages",
            "release.MF",
            problems,
            lambda p: PackageRef(
                _s(p["name"]), _s(p.get("version")), _s(p.get("fingerprint")), _s(p.get("sha1")), _deps(p)
            ),
        ),
        compiled_packages=_refs(
            doc,
            "compiled_packages",
            "release.MF",
            problems,
            lambda p: CompiledPackageRef(
                _s(p["name"]),
                _s(p.get("version")),
                _s(p.get("fingerprint")),
                _s(p.get("sha1")),
                _s(p.get("stemcell")),
                _deps(p),
            ),
        ),
        license=(
            LicenseRef(_s(lic.get("version")), _s(lic.get("fingerprint")), _s(lic.get("sha1")))
            if isinstance(lic, dict)
            else None
        ),
    )
    return manifest, problems


def parse_job(job: JobArchive, inner: str) -> tuple[JobManifest | None, list[str]]:
    if job.error:
        return None, [f"{inner} {job.error}"]
    if job.job_mf is None:
        return None, [f"{inner} has no job.MF"]
    problems: list[str] = []
    doc = _load_yaml(job.job_mf, f"{inner}: job.MF", problems)
    if doc is None:
        return None, problems
    templates = doc.get("templates") or {}
    if not isinstance(templates, dict):
        problems.append(f"{inner}: job.MF 'templates' is not a mapping")
        templates = {}
    props = doc.get("properties") or {}
    return (
        JobManifest(
            name=_s(doc.get("name")),
            templates={_s(k): _s(v) for k, v in templates.items()},
            packages=tuple(_s(p) for p in doc.get("packages") or ()),
            properties=tuple(sorted(_s(k) for k in props)) if isinstance(props, dict) else (),
        ),
        problems,
    )


def parse_stemcell(scan: TarballScan) -> tuple[StemcellManifest | None, list[str]]:
    problems: list[str] = []
    data = scan.small.get("stemcell.MF")
    if data is None:
        return None, ["stemcell.MF is missing"]
    doc = _load_yaml(data, "stemcell.MF", problems)
    if doc is None:
        return None, problems
    for key in ("name", "version", "operating_system"):
        if not doc.get(key):
            problems.append(f"stemcell.MF has no '{key}'")
    cloud = doc.get("cloud_properties") or {}
    if not isinstance(cloud, dict):
        problems.append("stemcell.MF 'cloud_properties' is not a mapping")
        cloud = {}
    api = doc.get("api_version")
    return (
        StemcellManifest(
            name=_s(doc.get("name")),
            version=_s(doc.get("version")),
            bosh_protocol=_s(doc.get("bosh_protocol")),
            sha1=_s(doc.get("sha1")).lower(),
            operating_system=_s(doc.get("operating_system")),
            cloud_properties=cloud,
            api_version=api if isinstance(api, int) else None,
            stemcell_formats=tuple(_s(f) for f in doc.get("stemcell_formats") or ()),
        ),
        problems,
    )


# --- validators: every problem, each naming the inner file -------------------------------------


def _digest_problem(inner: str, member: Member, expected: str) -> str | None:
    """``expected`` is a bare sha1 or bosh's multi-digest ``sha1;sha256:HEX``; all given must match."""
    expected = expected.strip().lower()
    if not expected:
        return f"{inner}: release.MF gives no sha1 for it"
    for part in expected.split(";"):
        algo, _, value = part.rpartition(":")
        algo = algo or "sha1"
        got = member.sha1 if algo == "sha1" else member.sha256 if algo == "sha256" else None
        if got is None:
            continue
        if got != value:
            return f"{inner} {algo} {got} does not match release.MF {value}"
    return None


def validate_release(scan: TarballScan, manifest: ReleaseManifest | None) -> list[str]:
    """Every problem with a release tarball's insides (not its identity: see ``bosh.check_artifact``)."""
    problems: list[str] = []
    if scan.error:
        problems.append(scan_problem(scan) or "")
    if manifest is None:
        return problems
    packages = {p.name for p in manifest.packages} | {p.name for p in manifest.compiled_packages}
    listed: set[str] = set()
    for job in manifest.jobs:
        inner = f"jobs/{job.name}.tgz"
        listed.add(inner)
        member = scan.members.get(inner)
        if member is None:
            problems.append(f"{inner} is listed in release.MF but missing from the tarball")
            continue
        bad = _digest_problem(inner, member, job.sha1)
        if bad:
            problems.append(bad)
        archive = scan.jobs.get(inner)
        if archive is None:
            continue
        job_mf, more = parse_job(archive, inner)
        problems += more
        if job_mf is None:
            continue
        if job_mf.name and job_mf.name != job.name:
            problems.append(f"{inner}: job.MF names the job {job_mf.name!r}, release.MF {job.name!r}")
        if "monit" not in archive.files:
            problems.append(f"{inner}: job {job.name!r} is missing its monit file")
        for src in sorted(job_mf.templates):
            if f"templates/{src}" not in archive.files:
                problems.append(f"{inner}: template {src!r} named in job.MF is missing from templates/")
        for pkg in job_mf.packages:
            if pkg not in packages:
                problems.append(f"{inner}: job {job.name!r} requires package {pkg!r} which is not in the release")
    for group, refs in (("packages", manifest.packages), ("compiled_packages", manifest.compiled_packages)):
        for pkg in refs:
            inner = f"{group}/{pkg.name}.tgz"
            listed.add(inner)
            member = scan.members.get(inner)
            if member is None:
                problems.append(f"{inner} is listed in release.MF but missing from the tarball")
                continue
            bad = _digest_problem(inner, member, pkg.sha1)
            if bad:
                problems.append(bad)
            for dep in pkg.dependencies:
                if dep not in packages:
                    problems.append(f"{inner}: package {pkg.name!r} depends on {dep!r} which is not in the release")
    if manifest.license is not None and manifest.license.sha1:
        member = scan.members.get("license.tgz")
        if member is None:
            problems.append("license.tgz is listed in release.MF but missing from the tarball")
        else:
            bad = _digest_problem("license.tgz", member, manifest.license.sha1)
            if bad:
                problems.append(bad)
        listed.add("license.tgz")
    for name in sorted(scan.members):
        if name.startswith(("jobs/", "packages/", "compiled_packages/")) and name not in listed:
            problems.append(f"{name} is in the tarball but not in release.MF")
    return problems


def is_light(scan: TarballScan, manifest: StemcellManifest | None) -> bool:
    image = scan.members.get("image")
    return bool(manifest and manifest.ami) or (image is not None and image.size == 0)


def validate_stemcell(scan: TarballScan, manifest: StemcellManifest | None, variant: str | None = None) -> list[str]:
    """Every problem with a stemcell's insides.  ``variant`` ("light"/"regular") is what the lock expects;
    ``None`` takes what the tarball looks like."""
    problems: list[str] = []
    if scan.error:
        problems.append(scan_problem(scan) or "")
    if manifest is None:
        return problems
    image = scan.members.get("image")
    light = is_light(scan, manifest) if variant is None else variant == "light"
    if image is None:
        if not scan.error:
            problems.append("image is missing from the tarball")
    elif light:
        if image.size != 0:
            problems.append(f"image has {image.size} bytes; a light stemcell's image is empty")
        if not manifest.ami:
            problems.append("stemcell.MF has no cloud_properties.ami map; a light stemcell names its AMIs there")
        for region, ami in sorted(manifest.ami.items()):
            if not _AMI.match(ami):
                problems.append(f"stemcell.MF cloud_properties.ami.{region} {ami!r} is not an AMI id")
    else:
        if image.size == 0:
            problems.append("image is empty: this is a light stemcell, the lock expects a regular one")
        elif not manifest.sha1:
            problems.append("stemcell.MF has no 'sha1' for image")
        elif image.sha1 != manifest.sha1:
            problems.append(f"image sha1 {image.sha1} does not match stemcell.MF {manifest.sha1}")
    if scan.dot_prefixed:
        problems.append("entries are named './…': a stemcell tarball's names have no './' prefix")
    return problems


def region_problem(manifest: StemcellManifest, region: str) -> str | None:
    """Why a light stemcell cannot be used in ``region`` (the CPI's "does not contain an AMI for this region")."""
    ami = manifest.ami
    if region in ami:
        return None
    hint = ""
    if re.match(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$", region):
        hint = f" ({region!r} looks like an availability zone; the region is {region[:-1]!r})"
    return (
        f"stemcell.MF cloud_properties.ami has no AMI for region {region}{hint};"
        f" it has: {', '.join(sorted(ami)) or 'none'}"
    )
