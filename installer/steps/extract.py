"""Step ``extract``: the payload, unpacked (safely, through a staging directory) under the state dir.

``bundler.core.extract.extract_payload`` refuses unsafe member paths and checks every artifact's sha256
against the lock; what it leaves in ``STATE/payload`` has the layout of the artifact paths
(``debs/…``, ``ruby/…``, ``gems/…``, ``bin/…``).  A payload left by an earlier run is replaced, and
staging directories a killed run left are removed.

Imports the bundle core's extraction, the install context and the journal's ``digest``.
"""

from __future__ import annotations

import shutil

from bundler.core.extract import extract_payload
from installer.context import InstallContext
from installer.journal import digest

NAME = "extract"


def applies(ctx: InstallContext) -> bool:
    return True


def inputs(ctx: InstallContext) -> dict:
    return {"artifacts": digest(sorted((a.path, a.sha256) for a in ctx.lock.artifacts))}


def present(ctx: InstallContext) -> bool:
    """The extracted payload is still there (a done ``extract`` is not enough if it was removed)."""
    return all((ctx.state.payload / a.path).is_file() for a in ctx.lock.artifacts if a.kind not in ("runtime", "wheel"))


def run(ctx: InstallContext) -> dict:
    if ctx.state.payload.exists():
        shutil.rmtree(ctx.state.payload)
    for stale in ctx.state.stale_staging():
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed run
    ctx.state.payload.parent.mkdir(parents=True, exist_ok=True)
    extract_payload(ctx.bundle, ctx.state.payload, ctx.lock, password=ctx.password)
    return {"files": len(ctx.lock.artifacts), "dir": str(ctx.state.payload)}
