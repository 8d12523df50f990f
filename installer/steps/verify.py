"""Step ``verify``: the bundle's files match ``SHA256SUMS`` and the lock, before anything is changed.

Uses the same verification as ``bosh-bundle verify`` / ``bosh-install verify``
(``bundler.core.verify.verify_bundle``): every file of the bundle against ``SHA256SUMS``, every
artifact inside the payload against the lock.

Imports the bundle core's verification and the install context.
"""

from __future__ import annotations

import os

from bundler.core.errors import IntegrityError
from bundler.core.verify import verify_bundle
from installer.context import InstallContext

NAME = "verify"


def applies(ctx: InstallContext) -> bool:
    return True


def inputs(ctx: InstallContext) -> dict:
    """Name, size and mtime of every file of the bundle: any change verifies again."""
    out = {}
    for entry in sorted(os.scandir(ctx.bundle), key=lambda e: e.name):
        if entry.is_file():
            st = entry.stat()
            out[entry.name] = [st.st_size, st.st_mtime_ns]
    return out


def run(ctx: InstallContext) -> dict:
    report = verify_bundle(ctx.bundle, password=ctx.password, progress=ctx.progress)
    if report.problems:
        lines = "\n  ".join(str(p) for p in report.problems)
        done = f"only {ctx.changed} changed" if ctx.changed else "nothing was changed"
        raise IntegrityError(f"{ctx.bundle}: the bundle does not verify, {done}:\n  {lines}")
    return {"files": report.files_checked, "members": report.members_checked, "contents": report.contents_checked}
