"""Single-file binaries (bosh-init, the bosh CLI v2): locked by URL and sha256, or trusted on first download.

A spec entry with ``sha256`` is ``pinned``; the file is still read once while locking, for its
size (and the bytes are kept in the cache for ``build``).  Where upstream publishes no checksum
(bosh-init 0.0.81) the resolver downloads it once, records the sha256 of that download with trust
``first-download`` and warns, naming the artifact, so the operator knows that nothing vouches for
those bytes but the moment they were fetched.  Locking again reuses the remembered first download
rather than trusting a second one.  The bundle path is ``bin/NAME``; ``meta["mode"]`` is the file
mode the installer gives it.

Imports ``bundler.core``, ``bundler.net`` (the one downloader, the lock-time index) and the spec.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bundler.core.errors import IntegrityError
from bundler.core.lock import Artifact, LockPart
from bundler.net import lockfetch
from bundler.net.download import ChecksumMismatch, download_to_cache
from bundler.spec import BinarySpec, Spec

if TYPE_CHECKING:
    from bundler.lockcontext import LockContext

log = logging.getLogger(__name__)

MODE = "0755"


def _download(ctx: LockContext, url: str, what: str, sha256: str | None) -> tuple[str, int]:
    try:
        got = download_to_cache(ctx.http, url, ctx.cache, what=what, sha256=sha256, progress=ctx.progress)
    except ChecksumMismatch as exc:
        raise IntegrityError(
            f"{what} ({url}): sha256 is {exc.got_sha256}, the spec pins {sha256}; the download was discarded"
        ) from None
    return got.sha256, got.size


def _lock_binary(b: BinarySpec, ctx: LockContext) -> Artifact:
    what = f"binary {b.name} {b.version}"
    # keyed by where the bytes really came from too: a first download through a mirror (a test
    # replica, say) must not be remembered as the first download of the upstream URL
    source = ctx.http.url(b.url)
    key = f"{b.url} sha256:{b.sha256}" if b.sha256 else f"{b.url} from {source} first-download"
    facts = lockfetch.remembered(ctx.cache, "files", key)
    if facts is None:
        log.info("%s: downloading %s", what, b.url)
        sha256, size = _download(ctx, b.url, what, b.sha256)
        facts = {"sha256": sha256, "size": size}
        lockfetch.remember(ctx.cache, "files", key, facts)
    trust = "pinned" if b.sha256 else "first-download"
    if trust == "first-download":
        ctx.warn(
            f"{what}: no checksum is published for {b.url}; the lock trusts the sha256 of the first download"
            f" ({facts['sha256']}). Check it against a source you trust and pin it as 'sha256' in the spec."
        )
    return Artifact(
        kind="binary",
        name=b.name,
        version=b.version,
        url=b.url,
        size=int(facts["size"]),
        sha256=facts["sha256"],
        trust=trust,
        path=f"bin/{b.name}",
        meta={"mode": MODE},
    )


def resolve_binaries(spec: Spec, ctx: LockContext) -> LockPart:
    return LockPart(tuple(_lock_binary(b, ctx) for b in spec.binaries))
