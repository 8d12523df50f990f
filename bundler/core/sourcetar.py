"""A source tarball (bosh-deployment at a commit) unpacked safely, on either side of the air gap.

``unpack`` checks every member before writing anything: regular files, directories and symlinks only
(no devices, FIFOs or hard links), no absolute path and no ``..``, a symlink only to a relative target
that stays inside the tree (bosh-deployment has one: ``enable-signed-urls.yml``), at most
``MAX_MEMBERS`` members and ``MAX_BYTES`` bytes.  It does not rely on tarfile's extraction filters
(Debian 12's Python 3.11.2 predates them).  ``top_directory`` is the one directory a GitHub source
tarball puts everything under.

Imports only ``bundler.core``.
"""

from __future__ import annotations

import posixpath
import tarfile
from pathlib import Path

from bundler.core.errors import IntegrityError

MAX_MEMBERS = 20000
MAX_BYTES = 512 * 1024 * 1024


def _problem(m: tarfile.TarInfo) -> str | None:
    name = m.name.removeprefix("./")
    if name.startswith("/") or ".." in name.split("/"):
        return f"{m.name}: a path outside the tree"
    if not (m.isfile() or m.isdir() or m.issym()):
        return f"{m.name}: not a file, directory or symlink"
    if m.issym():
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.linkname))
        if m.linkname.startswith("/") or target == ".." or target.startswith("../"):
            return f"{m.name}: a symlink out of the tree ({m.linkname})"
    return None


def top_directory(names: list[str]) -> str:
    """The one top directory every member is under, or "" (members at the top)."""
    clean = [n.removeprefix("./").rstrip("/") for n in names]
    clean = [n for n in clean if n not in ("", ".")]
    tops = {n.split("/", 1)[0] for n in clean}
    if len(tops) != 1:
        return ""
    top = tops.pop()
    return top if any("/" in n for n in clean) else ""


def unpack(tarball: Path, dest: Path) -> Path:
    """Extract ``tarball`` into ``dest``; the tree's root (``dest/TOP`` for a GitHub source tarball)."""
    try:
        with tarfile.open(tarball) as tar:
            members = tar.getmembers()
            problems = [p for p in map(_problem, members) if p]
            if len(members) > MAX_MEMBERS or sum(m.size for m in members) > MAX_BYTES:
                problems.append(f"{len(members)} members: more than a source tree should hold")
            if problems:
                raise IntegrityError(f"{tarball}: refusing to unpack: " + "; ".join(problems[:5]))
            trusted = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
            tar.extractall(dest, members=members, **trusted)  # every member checked above
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise IntegrityError(f"{tarball}: cannot unpack: {exc}") from None
    top = top_directory([m.name for m in members])
    return dest / top if top else dest
