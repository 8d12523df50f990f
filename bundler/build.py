"""``bosh-bundle build``: turn a lock into a bundle directory that survives the trip.

Steps, each complete before the next: fetch every artifact into the cache (``bundler.net.download``),
run the content checks (every problem reported at once), pack the payload (``bundler.core.archive``),
re-read the payload just written and check every member against the lock, copy ``bundle.lock``
byte for byte, add ``install.sh`` and ``bootstrap.tar.gz`` (``bundler.bootstrap.write_bootstrap``),
and write ``SHA256SUMS`` over every file.  All of it happens in a temporary directory beside
``--out`` that is renamed at the end: a failed or interrupted build leaves no half-written bundle.
Imports ``bundler.core``, ``bundler.net`` and ``bundler.bootstrap``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bundler.bootstrap import write_bootstrap
from bundler.core.archive import Payload, write_payload
from bundler.core.contents import check_contents
from bundler.core.errors import BundleError, InputError, IntegrityError
from bundler.core.lock import Lock, parse_lock
from bundler.core.sums import save_sums, submit_hashes
from bundler.core.verify import LOCK, verify_members
from bundler.net.download import FetchOptions, FetchResult, Progress, fetch_all
from bundler.net.http import Http

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    out: Path
    volumes: tuple[str, ...]
    artifacts: int
    payload_bytes: int
    fetched: FetchResult


def content_problems(lock: Lock, files: dict[str, Path], jobs: int) -> list[str]:
    def one(artifact) -> list[str]:
        return check_contents(files[artifact.path], artifact)

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="check") as pool:
        return [p for problems in pool.map(one, lock.artifacts) for p in problems]


def build_bundle(
    lock_path: Path,
    out: Path,
    *,
    cache: Path,
    http: Http | None = None,
    options: FetchOptions | None = None,
    progress: Progress | None = None,
    volume_size: int | None = None,
    password: str | None = None,
) -> BuildResult:
    lock_path, out = Path(lock_path), Path(out)
    options = options or FetchOptions()
    try:
        lock_bytes = lock_path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{lock_path}: no such lock file (create it with 'bosh-bundle lock')") from None
    lock = parse_lock(lock_bytes.decode("utf-8"), str(lock_path))
    if not lock.artifacts:
        raise InputError(f"{lock_path}: the lock lists no artifacts; nothing to bundle")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: already exists; choose a new --out directory or remove it")

    fetched = fetch_all(lock.artifacts, cache, http=http, options=options, progress=progress)
    problems = content_problems(lock, fetched.files, options.jobs)
    if problems:
        raise IntegrityError(f"{len(problems)} content problem(s): " + "; ".join(problems))

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".building", dir=out.parent))
    try:
        members = [(a.path, fetched.files[a.path]) for a in lock.artifacts]
        volumes = write_payload(tmp, members, volume_size=volume_size, password=password)
        (tmp / LOCK).write_bytes(lock_bytes)
        write_bootstrap(lock, tmp, cache)
        # Re-read what was written: every member against the lock, while SHA256SUMS is computed.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="seal") as pool:
            hashes = submit_hashes(pool, tmp)
            with Payload(volumes, password=password) as payload:
                problems, _ = verify_members(payload, lock, pool=pool)
            if problems:
                raise IntegrityError("the payload just written does not match the lock: " + "; ".join(problems))
            save_sums(tmp, {name: future.result() for name, future in hashes.items()})
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, BundleError):
            raise BundleError(f"writing the bundle into {tmp}: {exc}") from None
        raise
    payload_bytes = sum((out / v.name).stat().st_size for v in volumes)
    log.info("built %s: %d artifacts, %d bytes of payload", out, len(lock.artifacts), payload_bytes)
    return BuildResult(out, tuple(v.name for v in volumes), len(lock.artifacts), payload_bytes, fetched)
