"""Step ``extract``: the payload, unpacked (safely, through a staging directory) under the state dir.

``bundler.extract.extract_payload`` refuses unsafe member paths and checks every artifact's sha256
against the lock; what it leaves in ``STATE/payload`` has the layout of the artifact paths
(``debs/…``, ``ruby/…``, ``gems/…``, ``bin/…``).  A payload left by an earlier run is replaced.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from bundler.errors import IntegrityError
from bundler.lock import Lock
from installer.context import InstallContext
from installer.journal import digest

NAME = "extract"


def applies(ctx: InstallContext) -> bool:
    return True


def inputs(ctx: InstallContext) -> dict:
    return {"artifacts": digest(sorted((a.path, a.sha256) for a in ctx.lock.artifacts))}


def present(ctx: InstallContext) -> bool:
    """The extracted payload is still there (a done ``extract`` is not enough if it was removed)."""
    return all((ctx.payload_dir / a.path).is_file() for a in ctx.lock.artifacts if a.kind not in ("runtime", "wheel"))


def extractor():
    """``bundler.extract.extract_payload`` (shared with bosh-bundle), or the single-volume fallback."""
    try:
        from bundler.extract import extract_payload
    except ModuleNotFoundError as exc:  # the shared extractor is not part of this build yet
        if exc.name != "bundler.extract":
            raise
        return extract_single_volume
    return extract_payload


def run(ctx: InstallContext) -> dict:
    extract_payload = extractor()

    if ctx.payload_dir.exists():
        shutil.rmtree(ctx.payload_dir)
    ctx.payload_dir.parent.mkdir(parents=True, exist_ok=True)
    extract_payload(ctx.bundle, ctx.payload_dir, ctx.lock)
    return {"files": len(ctx.lock.artifacts), "dir": str(ctx.payload_dir)}


def extract_single_volume(bundle: Path, dest: Path, lock: Lock) -> None:
    """Unpack ``payload.7z`` into a staging directory, check every artifact, then move it into place."""
    import py7zr

    staging = dest.with_name(dest.name + ".staging")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        with py7zr.SevenZipFile(bundle / "payload.7z") as archive:
            archive.extractall(path=staging)
        for art in lock.artifacts:
            if art.kind in ("runtime", "wheel"):
                continue
            path = staging / art.path
            if not path.is_file():
                raise IntegrityError(f"payload.7z: {art.path} is missing")
            if hashlib.sha256(path.read_bytes()).hexdigest() != art.sha256:
                raise IntegrityError(f"payload.7z: {art.path} does not match its sha256 in bundle.lock")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    staging.rename(dest)
