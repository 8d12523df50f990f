"""Step ``clis``: the bundle's binaries (``bin/NAME``, e.g. bosh-init) into ``/usr/local/bin``, mode 0755.

Each file is copied to a temporary name beside its destination and renamed over it, so a killed run
never leaves a half-written executable on PATH.

Imports the install context.
"""

from __future__ import annotations

import os
import shutil

from installer.context import InstallContext

NAME = "clis"
BIN_DIR = "/usr/local/bin"


def applies(ctx: InstallContext) -> bool:
    return bool(ctx.lock.by_kind("binary"))


def inputs(ctx: InstallContext) -> dict:
    return {"binaries": sorted([a.name, a.sha256] for a in ctx.lock.by_kind("binary"))}


def run(ctx: InstallContext) -> dict:
    dest_dir = ctx.host(BIN_DIR)
    installed = []
    for art in sorted(ctx.lock.by_kind("binary"), key=lambda a: a.name):
        dest = dest_dir / art.name
        ctx.say(f"clis: {art.name} {art.version} -> {BIN_DIR}/{art.name}")
        if ctx.dry_run:
            continue
        dest_dir.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{art.name}.tmp")
        shutil.copyfile(ctx.state.payload / art.path, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, dest)
        installed.append(f"{BIN_DIR}/{art.name}")
    return {"installed": installed}
