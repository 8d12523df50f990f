"""``bosh-bundle resplit``: the same bundle with its payload cut into volumes of another size, nothing downloaded.

The payload volumes are a plain byte split of one 7z archive (``bundler.core.volumes.VolumeWriter``
writes byte ``i`` of the archive at ``i // size``, offset ``i % size``; ``VolumeReader`` reads their
concatenation), so cutting the same bytes at other boundaries gives the same archive: the old
volumes are streamed in order, each hashed against the old ``SHA256SUMS`` as it is read (a damaged
bundle is refused), and written into the new volumes, each hashed as it is written.  The other files
(lock, SBOM, bootstrap, ``bundle.json``…) are copied and checked against the old ``SHA256SUMS`` the
same way; a new ``SHA256SUMS`` is written (``SHA256SUMS.gpg`` does not carry over: ``sign_key`` signs the new one), and
the result is verified (``bundler.core.verify``) before it is renamed into place.  It is written
in a temporary directory beside ``--out``: a failure leaves nothing.  Reading and hashing the old
volumes overlaps writing and hashing the new ones (two threads).

Imports only ``bundler.core``.
"""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from bundler.bundledir import new_bundle_dir
from bundler.core.digest import CHUNK
from bundler.core.errors import InputError, IntegrityError
from bundler.core.progress import NO_PROGRESS, NullBar, TermProgress
from bundler.core.signing import sign_sums
from bundler.core.sums import SIGNATURE, SUMS, bundle_files, parse_sums, save_sums
from bundler.core.verify import Report, render, verify_bundle
from bundler.core.volumes import PAYLOAD, find_volumes, volume_name


@dataclass(frozen=True)
class ResplitPlan:
    """What a re-split would write, from the checks made before any byte is read."""

    out: Path
    old: tuple[Path, ...]  # the bundle's volumes, in order
    listed: dict[str, str]  # the bundle's SHA256SUMS: name -> sha256
    volumes: tuple[str, ...]
    payload_bytes: int
    others: tuple[str, ...]  # the files copied as they are (lock, SBOM, bootstrap, bundle.json…)

    @property
    def old_volumes(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.old)


@dataclass(frozen=True)
class ResplitResult:
    out: Path
    old_volumes: tuple[str, ...]
    volumes: tuple[str, ...]
    payload_bytes: int
    dropped_signature: bool
    report: Report


class _Splitter:
    """Sequential writer of ``payload.7z.001``… of ``size`` bytes each (one ``payload.7z`` when None),
    hashing each volume as it is written."""

    def __init__(self, directory: Path, size: int | None, bar: NullBar) -> None:
        self.directory, self.size, self.bar = directory, size, bar
        self.digests: dict[str, str] = {}
        self.file = None
        self.name = ""
        self.hash = hashlib.sha256()
        self.left = 0

    def _next(self) -> None:
        self._finish()
        self.name = PAYLOAD if self.size is None else volume_name(len(self.digests) + 1)
        self.file = open(self.directory / self.name, "xb")  # noqa: SIM115 - closed in _finish
        self.hash = hashlib.sha256()
        self.left = self.size if self.size is not None else 1 << 62

    def _finish(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
            self.digests[self.name] = self.hash.hexdigest()
            self.bar.file_done()

    def write(self, block: bytes) -> None:
        view = memoryview(block)
        while view:
            if self.file is None or self.left == 0:
                self._next()
            piece = view[: self.left]
            self.file.write(piece)
            self.hash.update(piece)
            self.left -= len(piece)
            view = view[len(piece) :]
        self.bar.advance(len(block))

    def close(self) -> dict[str, str]:
        self._finish()
        return self.digests


def _stream_volumes(old: list[Path], listed: dict[str, str], splitter: _Splitter) -> None:
    """Old volumes in order into ``splitter`` (on a writer thread), each checked against ``listed``."""
    blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
    failure: list[BaseException] = []

    def writer() -> None:
        try:
            while (block := blocks.get()) is not None:
                if not failure:
                    splitter.write(block)
        except BaseException as exc:
            failure.append(exc)
            while blocks.get() is not None:
                pass

    thread = threading.Thread(target=writer, name="resplit-writer", daemon=True)
    thread.start()
    try:
        for path in old:
            h = hashlib.sha256()
            with open(path, "rb", buffering=0) as f:
                while (block := f.read(CHUNK)) and not failure:
                    blocks.put(block)
                    h.update(block)
            if h.hexdigest() != listed.get(path.name):
                raise IntegrityError(
                    f"{path.name}: volume is damaged or altered (sha256 {h.hexdigest()}, {SUMS} says"
                    f" {listed.get(path.name)}); run 'bosh-bundle verify' on the bundle, nothing was written"
                )
    finally:
        blocks.put(None)
        thread.join()
    if failure:
        raise failure[0]


def _copy_checked(src: Path, dst: Path, want: str | None, bar: NullBar) -> str:
    h = hashlib.sha256()
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb", buffering=0) as f, open(dst, "xb") as g:
        while block := f.read(CHUNK):
            g.write(block)
            h.update(block)
            bar.advance(len(block))
    shutil.copymode(src, dst)
    if h.hexdigest() != want:
        raise IntegrityError(
            f"{src.name}: file is damaged or altered (sha256 {h.hexdigest()}, {SUMS} says {want});"
            " run 'bosh-bundle verify' on the bundle, nothing was written"
        )
    bar.file_done()
    return h.hexdigest()


def _source(bundle: Path) -> tuple[list[Path], dict[str, str]]:
    if not bundle.is_dir():
        raise InputError(f"{bundle}: no such bundle directory")
    old = find_volumes(bundle)
    if not old:
        raise InputError(f"{bundle}: no payload ({PAYLOAD} or {volume_name(1)}): not a bundle directory")
    if not (bundle / SUMS).is_file():
        raise InputError(f"{bundle}: no {SUMS}; a bundle without it cannot be checked, so it is not re-split")
    listed, bad = parse_sums((bundle / SUMS).read_text(encoding="utf-8", errors="replace"))
    unlisted = [n for n in bundle_files(bundle) if n not in listed and n != SIGNATURE]
    if bad or unlisted:
        why = "; ".join([*(str(p) for p in bad), *(f"{n} is not listed in {SUMS}" for n in unlisted)])
        raise IntegrityError(f"{bundle}: {why}; run 'bosh-bundle verify' on it")
    return old, listed


def plan_resplit(bundle: Path, out: Path, volume_size: int | None) -> ResplitPlan:
    """Check ``bundle`` (its payload and ``SHA256SUMS``) and ``out`` (absent or empty); say what would be written."""
    bundle, out = Path(bundle), Path(out)
    old, listed = _source(bundle)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: already exists; choose a new --out directory or remove it")
    payload_bytes = sum(v.stat().st_size for v in old)
    if volume_size is None:
        volumes: tuple[str, ...] = (PAYLOAD,)
    else:
        volumes = tuple(volume_name(i + 1) for i in range(max(1, -(-payload_bytes // volume_size))))
    others = tuple(n for n in sorted(listed) if n not in {v.name for v in old})
    return ResplitPlan(out, tuple(old), listed, volumes, payload_bytes, others)


def resplit_bundle(
    bundle: Path,
    out: Path,
    volume_size: int | None,
    *,
    password: str | None = None,
    jobs: int | None = None,
    progress: TermProgress = NO_PROGRESS,
    sign_key: str | None = None,
) -> ResplitResult:
    """Write ``bundle`` again as ``out`` with volumes of ``volume_size`` bytes (None: one ``payload.7z``)."""
    bundle, out = Path(bundle), Path(out)
    plan = plan_resplit(bundle, out, volume_size)
    old, listed, others, payload_bytes = list(plan.old), plan.listed, plan.others, plan.payload_bytes
    total = payload_bytes + sum((bundle / n).stat().st_size for n in others)
    with new_bundle_dir(out, ".resplit", "the re-split bundle") as tmp:
        with progress.bar("resplit", total, files=len(plan.volumes) + len(others)) as bar:
            splitter = _Splitter(tmp, volume_size, bar)
            _stream_volumes(old, listed, splitter)
            digests = splitter.close()
            for name in digests:
                os.chmod(tmp / name, old[0].stat().st_mode & 0o777)
            for name in others:
                digests[name] = _copy_checked(bundle / name, tmp / name, listed.get(name), bar)
        os.chmod(tmp, bundle.stat().st_mode & 0o7777)
        save_sums(tmp, digests)
        report = verify_bundle(tmp, jobs=jobs, password=password, progress=progress)
        if not report.ok:
            raise IntegrityError("the re-split bundle does not verify:\n" + render(report))
        if sign_key:
            sign_sums(tmp, sign_key)
    report.bundle = str(out)
    new = tuple(sorted(n for n in digests if n.startswith(PAYLOAD)))
    dropped = (bundle / SIGNATURE).exists()
    return ResplitResult(out, plan.old_volumes, new, payload_bytes, dropped, report)
