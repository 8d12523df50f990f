"""``bosh-bundle build``: turn a lock into a bundle directory that survives the trip.

Steps, each complete before the next: fetch every artifact into the cache (``bundler.net.download``),
run the content checks (every problem reported at once), pack the payload (``bundler.core.archive``),
copy ``bundle.lock`` byte for byte, write ``sbom.cdx.json`` (``bundler.core.sbom``), add ``install.sh``
and ``bootstrap.tar.gz`` (``bundler.bootstrap.write_bootstrap``) and ``bundle.json`` (serial, expiry:
``bundler.core.bundlemeta``), then ``seal``: re-read the payload once, checking every member against
the lock while ``SHA256SUMS`` is computed over every file; with a signing key sign it
(``SHA256SUMS.gpg``, ``bundler.core.signing``).  Each long phase has a bar on the ``TermProgress``
given ("download", "check", "pack", "SHA256SUMS").  All of it happens in a temporary directory
beside ``--out`` that is renamed at the end: a failed or interrupted build leaves no half-written
bundle.  Imports ``bundler.core``, ``bundler.net`` and ``bundler.bootstrap``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bundler.bootstrap import write_bootstrap
from bundler.bundledir import new_bundle_dir
from bundler.core.archive import Payload, write_payload
from bundler.core.bosh import compiled
from bundler.core.bundlemeta import BundleMeta, new_meta, write_meta
from bundler.core.contents import check_contents
from bundler.core.delta import delta_of, packed_lock, write_delta
from bundler.core.errors import InputError, IntegrityError
from bundler.core.lock import Lock, parse_lock
from bundler.core.payloadscan import read_once_pays, scan_payload
from bundler.core.progress import NO_PROGRESS, TermProgress
from bundler.core.sbom import write_sbom
from bundler.core.signing import sign_sums
from bundler.core.sums import save_sums, submit_hashes
from bundler.core.verify import LOCK
from bundler.core.verify_payload import digest_problems, verify_members
from bundler.net.download import FetchOptions, FetchResult, fetch_all
from bundler.net.http import Http

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    out: Path
    volumes: tuple[str, ...]
    artifacts: int
    payload_bytes: int
    fetched: FetchResult


def content_problems(lock: Lock, files: dict[str, Path], jobs: int, progress: TermProgress = NO_PROGRESS) -> list[str]:
    bar = progress.bar("check", sum(a.size for a in lock.artifacts), files=len(lock.artifacts))

    def one(artifact) -> list[str]:
        found = check_contents(files[artifact.path], artifact)
        bar.advance(artifact.size)
        bar.file_done()
        return found

    with bar, ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="check") as pool:
        found = [p for problems in pool.map(one, lock.artifacts) for p in problems]
    return found + [str(p) for p in compiled.bundle_problems(lock, files)]  # compiled releases x stemcell


def seal(tmp: Path, volumes: list[Path], lock: Lock, password: str | None, progress: TermProgress) -> None:
    """Re-read what was written: every member against the lock, and SHA256SUMS over every file.

    An unencrypted payload is read once for both (``scan_payload``: volume and member sums from the
    same bytes); the other files are hashed beside it."""
    total = sum(p.stat().st_size for p in tmp.iterdir() if p.is_file())
    bar = progress.bar("SHA256SUMS", total, files=len(list(tmp.iterdir())))
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="seal")
    with bar, pool, Payload(volumes, password=password) as payload:
        one_read = payload.direct and password is None and read_once_pays(payload)
        hashes = submit_hashes(pool, tmp, skip={v.name for v in volumes} if one_read else ())
        if one_read:
            scan = scan_payload(payload, {a.path for a in lock.artifacts}, bar)
            problems = digest_problems(payload, lock, scan.members) + ([scan.error] if scan.error else [])
            digests = dict(scan.volumes)
        else:
            problems, _ = verify_members(payload, lock, pool=pool, bar=bar)
            digests = {}
        if problems:
            raise IntegrityError("the payload just written does not match the lock: " + "; ".join(problems))
        digests.update({name: future.result() for name, future in hashes.items()})
        bar.file_done(len(digests))
    save_sums(tmp, digests)


def world_readable(directory: Path) -> None:
    """Directories 0755, files 0644 (0755 where executable): an unencrypted bundle is for everyone to read."""
    directory.chmod(0o755)
    for top, dirs, files in os.walk(directory):
        for name in dirs:
            os.chmod(os.path.join(top, name), 0o755)
        for name in files:
            path = os.path.join(top, name)
            os.chmod(path, 0o755 if os.stat(path).st_mode & 0o100 else 0o644)


def _delta(lock: Lock, since: Path):
    try:
        old_bytes = Path(since).read_bytes()
    except OSError as exc:
        raise InputError(f"--since {since}: {exc.strerror}") from None
    delta = delta_of(lock, parse_lock(old_bytes.decode("utf-8"), str(since)), hashlib.sha256(old_bytes).hexdigest())
    if not delta.packed:
        raise InputError(f"--since {since}: the lock has no artifact that {since} lacks; nothing to put in a delta")
    return delta


def _inputs(lock_path: Path, out: Path) -> tuple[bytes, Lock]:
    """The lock's bytes and the lock; ``InputError`` before anything is fetched if either is wrong."""
    try:
        lock_bytes = lock_path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{lock_path}: no such lock file (create it with 'bosh-bundle lock')") from None
    lock = parse_lock(lock_bytes.decode("utf-8"), str(lock_path))
    if not lock.artifacts:
        raise InputError(f"{lock_path}: the lock lists no artifacts; nothing to bundle")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: already exists; choose a new --out directory or remove it")
    return lock_bytes, lock


def build_bundle(
    lock_path: Path,
    out: Path,
    *,
    cache: Path,
    http: Http | None = None,
    options: FetchOptions | None = None,
    progress: TermProgress = NO_PROGRESS,
    volume_size: int | None = None,
    password: str | None = None,
    meta: BundleMeta | None = None,
    sign_key: str | None = None,
    since: Path | None = None,
) -> BuildResult:
    lock_path, out = Path(lock_path), Path(out)
    options = options or FetchOptions()
    lock_bytes, lock = _inputs(lock_path, out)
    delta = _delta(lock, since) if since else None  # --since OLD.lock: only what OLD.lock lacks
    packed = packed_lock(lock, delta)

    with progress.bar("download", files=len(lock.artifacts)) as bar:
        fetched = fetch_all(lock.artifacts, cache, http=http, options=options, progress=bar)
    problems = content_problems(lock, fetched.files, options.jobs, progress)
    if problems:
        raise IntegrityError(f"{len(problems)} content problem(s): " + "; ".join(problems))

    with new_bundle_dir(out, ".building", "the bundle") as tmp:
        members = [(a.path, fetched.files[a.path]) for a in packed.artifacts]
        with progress.bar("pack", sum(a.size for a in packed.artifacts), files=len(members)) as bar:
            volumes = write_payload(tmp, members, volume_size=volume_size, password=password, progress=bar)
        (tmp / LOCK).write_bytes(lock_bytes)
        write_sbom(tmp, lock, lock_bytes)
        write_bootstrap(lock, tmp, cache)
        write_meta(tmp, meta or new_meta())
        if delta is not None:
            write_delta(tmp, delta)
        seal(tmp, volumes, packed, password, progress)
        if sign_key:
            sign_sums(tmp, sign_key)
        if password is None:
            world_readable(tmp)
    payload_bytes = sum((out / v.name).stat().st_size for v in volumes)
    log.info("built %s: %d artifacts, %d bytes of payload", out, len(lock.artifacts), payload_bytes)
    return BuildResult(out, tuple(v.name for v in volumes), len(lock.artifacts), payload_bytes, fetched)
