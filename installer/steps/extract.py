"""Step ``extract``: the payload, unpacked (safely, through a staging directory) under the state dir.

``bundler.core.extract`` refuses unsafe member paths and checks every artifact's sha256 against the
lock; what it leaves in ``STATE/payload`` has the layout of the artifact paths (``debs/…``,
``ruby/…``, ``gems/…``, ``bin/…``). ``STATE/payload.json`` records the path and sha256 of every file
extracted. The first time (or when that record or a file is gone) the whole payload is extracted
into a new directory; after that, a newer bundle (an upgrade) extracts only the artifacts whose
sha256 changed or that are new, through a staging directory, renames each into place and removes the
files the new lock no longer lists. A delta bundle (``bundler.core.delta``) goes only on top of a
payload holding every artifact it builds on, else it is refused naming them. Staging directories a
killed run left are removed (the step runs under the state directory's lock, so no live run owns
them).

Imports the bundle core's extraction and payload reader, the install context and the journal's
``digest``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from bundler.core.archive import Payload
from bundler.core.delta import DELTA, missing_base, payload_lock, read_delta
from bundler.core.errors import InputError, IntegrityError
from bundler.core.extract import extract_payload, member_problems, write_members
from bundler.core.lock import Artifact
from bundler.core.volumes import find_volumes
from installer.context import InstallContext
from installer.journal import digest

NAME = "extract"
RECORD = "payload.json"


def applies(ctx: InstallContext) -> bool:
    return True


def inputs(ctx: InstallContext) -> dict:
    return {"artifacts": digest(sorted((a.path, a.sha256) for a in ctx.lock.artifacts))}


def _wanted(ctx: InstallContext) -> list[Artifact]:
    return [a for a in ctx.lock.artifacts if a.kind not in ("runtime", "wheel")]


def present(ctx: InstallContext) -> bool:
    """The extracted payload is still there (a done ``extract`` is not enough if it was removed)."""
    return all((ctx.state.payload / a.path).is_file() for a in _wanted(ctx))


def record_path(ctx: InstallContext) -> Path:
    return ctx.state.path / RECORD


def extracted(ctx: InstallContext) -> dict[str, str]:
    """path -> sha256 of what the last extraction left in the payload (empty when unknown)."""
    try:
        data = json.loads(record_path(ctx).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {p: s for p, s in data.items() if (ctx.state.payload / p).is_file()} if isinstance(data, dict) else {}


def changed(ctx: InstallContext) -> list[Artifact]:
    """The lock's artifacts the payload does not hold with the locked sha256."""
    have = extracted(ctx)
    return [a for a in ctx.lock.artifacts if have.get(a.path) != a.sha256]


def _write_record(ctx: InstallContext) -> None:
    path = record_path(ctx)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({a.path: a.sha256 for a in ctx.lock.artifacts}, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def delta_problem(ctx: InstallContext) -> str:
    """Why a delta bundle cannot go on top of what is extracted here ("" when it can, or no delta)."""
    delta = read_delta(ctx.bundle)
    if delta is None:
        return ""
    missing = missing_base(delta, extracted(ctx))
    if not missing:
        return ""
    shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    return (
        f"{ctx.bundle / DELTA}: a delta bundle (since the lock with sha256 {delta.since[:16]}…), but the payload"
        f" in {ctx.state.payload} lacks {len(missing)} of the artifacts it builds on ({shown}):"
        " install the full bundle of that lock first, then this one"
    )


def run(ctx: InstallContext) -> dict:
    for stale in ctx.state.stale_staging():
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed run
    ctx.state.payload.parent.mkdir(parents=True, exist_ok=True)
    problem = delta_problem(ctx)
    if problem:
        raise InputError(problem)
    todo = changed(ctx)
    total = len(ctx.lock.artifacts)
    if read_delta(ctx.bundle) is None and (not extracted(ctx) or len(todo) == total):
        ctx.say(f"extract: {total} artifacts into {ctx.state.payload}")
        if ctx.state.payload.exists():
            shutil.rmtree(ctx.state.payload)
        extract_payload(ctx.bundle, ctx.state.payload, ctx.lock, password=ctx.password)
        _write_record(ctx)
        return {"files": total, "extracted": total, "kept": 0, "dir": str(ctx.state.payload)}
    ctx.say(f"extract: {len(todo)} changed or new of {total} artifacts (the rest is current)")
    _extract_some(ctx, todo)
    removed = _remove_unlisted(ctx)
    _write_record(ctx)
    return {
        "files": total,
        "extracted": len(todo),
        "kept": total - len(todo),
        "removed": removed,
        "changed": sorted(a.path for a in todo)[:20],
        "dir": str(ctx.state.payload),
    }


def _extract_some(ctx: InstallContext, todo: list[Artifact]) -> None:
    """Write ``todo`` through a staging directory, then rename each file into the payload."""
    payload_dir = ctx.state.payload
    with Payload(find_volumes(ctx.bundle), password=ctx.password) as payload:
        problems = member_problems(payload.members, payload_lock(ctx.bundle, ctx.lock))
        if problems:
            raise IntegrityError(f"{ctx.bundle}: refusing to extract the payload: " + "; ".join(problems))
        staging = Path(tempfile.mkdtemp(prefix=f".{payload_dir.name}.", suffix=".staging", dir=payload_dir.parent))
        try:
            write_members(payload, todo, staging)
            for art in todo:
                dest = payload_dir / art.path
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / art.path, dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _remove_unlisted(ctx: InstallContext) -> int:
    listed = {a.path for a in ctx.lock.artifacts}
    removed = 0
    for path in sorted(ctx.state.payload.rglob("*")):
        if path.is_file() and path.relative_to(ctx.state.payload).as_posix() not in listed:
            path.unlink()
            removed += 1
    return removed
