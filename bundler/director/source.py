"""The bosh-deployment source tarball: locked by url + sha256 (or a local tarball), unpacked safely.

``lock_source`` downloads the tarball once into the lock cache (sha256 checked when the spec gives
it, learned when the spec names a local file) and returns its ``Artifact`` (kind ``manifest``) with
the cache file; ``unpack`` (``bundler.core.sourcetar``, the installer's too) extracts it safely.

Imports ``bundler.core``, ``bundler.net`` and the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bundler.core.errors import InputError, IntegrityError
from bundler.core.lock import Artifact
from bundler.core.sourcetar import top_directory, unpack
from bundler.net.download import ChecksumMismatch, download_to_cache
from bundler.spec.director import DirectorSpec

if TYPE_CHECKING:
    from bundler.lockcontext import LockContext


@dataclass(frozen=True)
class Source:
    artifact: Artifact
    file: Path  # the verified tarball in the cache


def lock_source(d: DirectorSpec, ctx: LockContext) -> Source:
    what = "director.bosh_deployment"
    if d.path is not None and not d.path.is_file():
        raise InputError(f"{what}.path: {d.path} is not a file (give a tarball of bosh-deployment)")
    url = d.url or d.path.as_uri()
    try:
        got = download_to_cache(ctx.http, url, ctx.cache, what=what, sha256=d.sha256)
    except ChecksumMismatch as exc:
        raise IntegrityError(
            f"{what} ({url}): sha256 is {exc.got_sha256}, the spec pins {d.sha256}; the download was discarded"
        ) from None
    artifact = Artifact(
        kind="manifest",
        name="bosh-deployment",
        version=got.sha256[:12],
        url=url,
        size=got.size,
        sha256=got.sha256,
        trust="pinned",
        path=f"director/bosh-deployment-{got.sha256[:12]}.tgz",
    )
    return Source(artifact, got.path)


__all__ = ["Source", "lock_source", "top_directory", "unpack"]
