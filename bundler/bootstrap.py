"""The bundle's bootstrap: ``install.sh`` and ``bootstrap.tar.gz``, what runs first on the offline host.

The offline host may have nothing but a base system (trusty: ``sh tar gzip sha256sum dpkg``, and a
python3 too old for us), so the bundle carries the installer and the Python that runs it:

- ``bootstrap.tar.gz``: ``src/`` (this project's ``bundler``, ``installer`` and ``manifests`` trees) and
  ``runtime/`` (``mode``, then for ``distro`` the runtime debs in install order listed in
  ``runtime/debs.order``, one ``dpkg -i`` call per group, groups separated by ``--`` lines so that
  Pre-Depends are configured first (``bundler.core.deb.stages``); for ``standalone`` the
  python-build-standalone tarball named in ``runtime/python.name``; for both the wheels under
  ``runtime/wheels/``).  Runtime files are taken from the build cache by their locked sha256.  The
  tarball is deterministic: sorted members, mtime 0, owner 0, normalised modes, gzip header without
  name or time; the same lock and sources give the same bytes.
- ``install.sh``: POSIX sh.  With ``--keyring FILE`` checks ``SHA256SUMS.gpg`` with ``gpgv`` first (missing,
  bad, unknown key refused).  Checks ``bootstrap.tar.gz`` against ``SHA256SUMS`` before unpacking
  anything, unpacks it into a temporary directory, brings up Python (distro: ``dpkg -i`` the runtime
  debs unless a good enough python3 is already there; standalone: unpack the tarball), unpacks the
  wheels for it, then runs ``python3 -m installer install --bundle DIR "$@"`` with the installer's
  sources and the wheels first on ``PYTHONPATH``.

``bosh-bundle build`` calls ``write_bootstrap(lock, out_dir, cache)`` before it writes ``SHA256SUMS``.
The script's text is ``bundler.installsh``; ``runtime/target`` (written here) holds what it checks in
sh before anything changes (target OS, release, codename, architecture, the lock's total size).

Imports ``bundler.core`` and ``bundler.net.cache`` (where the runtime files are).
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from bundler.core.deb.stages import stages
from bundler.core.errors import BundleError
from bundler.core.lock import Artifact, Lock
from bundler.installsh import INSTALL_SH
from bundler.net.cache import artifact_path

# The offline side: the bundle core, the installer and its templates (nothing of the connected side).
SOURCE_TREES = (
    "bundler/__init__.py",
    "bundler/core",
    "installer",
    "manifests",
    "pyproject.toml",
)  # its version: --version
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# free space install.sh asks for on the state directory's filesystem, times the payload (as installer.hostcheck)
DISK_FACTOR = 3


@dataclass(frozen=True)
class Member:
    name: str  # path inside the tarball
    source: Path | None  # file to copy; None for generated content
    data: bytes | None = None
    executable: bool = False


def write_bootstrap(lock: Lock, out_dir: Path, cache: Path) -> list[Path]:
    """Write ``install.sh`` and ``bootstrap.tar.gz`` into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    members = source_members(PROJECT_ROOT) + runtime_members(lock, Path(cache))
    tar_path = out_dir / "bootstrap.tar.gz"
    write_deterministic_tar_gz(members, tar_path)
    script = out_dir / "install.sh"
    tmp = script.with_name(script.name + ".tmp")
    tmp.write_text(INSTALL_SH, encoding="utf-8")
    os.chmod(tmp, 0o755)
    os.replace(tmp, script)
    return [script, tar_path]


def source_members(root: Path) -> list[Member]:
    out = []
    for tree in SOURCE_TREES:
        base = root / tree
        for path in sorted(base.rglob("*")) if base.is_dir() else [base]:
            if "__pycache__" in path.parts or path.suffix == ".pyc" or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            out.append(Member(f"src/{rel}", path, executable=os.access(path, os.X_OK)))
    return out


def runtime_members(lock: Lock, cache: Path) -> list[Member]:
    runtime = lock.runtime
    out = [Member("runtime/mode", None, f"{runtime.mode}\n".encode()), target_member(lock)]
    if runtime.mode == "distro":
        files: dict[Path, str] = {}
        for p in lock.debs.runtime:
            art = _artifact(lock, p, "sections.debs.runtime")
            name = p.rsplit("/", 1)[-1]
            files[_cached(cache, art)] = name
            out.append(Member(f"runtime/debs/{name}", _cached(cache, art)))
        order = "--\n".join("".join(f"{files[f]}\n" for f in stage) for stage in stages(list(files)))
        out.append(Member("runtime/debs.order", None, order.encode()))
    elif runtime.mode == "standalone":
        python = _artifact(lock, runtime.python, "sections.runtime.python")
        name = python.path.rsplit("/", 1)[-1]
        out.append(Member(f"runtime/{name}", _cached(cache, python)))
        out.append(Member("runtime/python.name", None, f"{name}\n".encode()))
    else:
        raise BundleError(f"bundle.lock: sections.runtime.mode {runtime.mode!r} is not 'distro' or 'standalone'")
    for p in runtime.wheels:
        wheel = _artifact(lock, p, "sections.runtime.wheels")
        out.append(Member(f"runtime/wheels/{p.rsplit('/', 1)[-1]}", _cached(cache, wheel)))
    return out


def target_member(lock: Lock) -> Member:
    """``runtime/target``: what install.sh checks in sh before it changes anything (KEY=VALUE lines)."""
    target = dict(lock.target)
    lines = [f"{key}={target.get(key, '')}" for key in ("os", "release", "codename", "arch")]
    lines += [f"lock_bytes={lock.total_size}", f"disk_factor={DISK_FACTOR}"]
    return Member("runtime/target", None, ("\n".join(lines) + "\n").encode())


def _artifact(lock: Lock, path: str, where: str) -> Artifact:
    art = lock.by_path(path)
    if art is None:
        raise BundleError(f"bundle.lock: {where} names {path!r}, which is not an artifact of the lock; lock again")
    return art


def _cached(cache: Path, art: Artifact) -> Path:
    path = artifact_path(cache, art.sha256)
    if not path.is_file():
        raise BundleError(
            f"{art.kind} {art.name} {art.version} ({art.path}) is not in the cache {cache}: "
            "download the bundle's artifacts first ('bosh-bundle build' does)"
        )
    return path


def write_deterministic_tar_gz(members: list[Member], dest: Path) -> None:
    """A gzip'd tar whose bytes depend only on member names, contents and executable bits."""
    files = {m.name: m for m in members}
    dirs = sorted({"/".join(n.split("/")[:i]) for n in files for i in range(1, n.count("/") + 1)})
    tmp = dest.with_name(dest.name + ".tmp")
    with (
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):
        for name in sorted([*dirs, *files]):
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
            member = files.get(name)
            if member is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                continue
            info.mode = 0o755 if member.executable else 0o644
            if member.data is not None:
                info.size = len(member.data)
                tar.addfile(info, io.BytesIO(member.data))
            else:
                assert member.source is not None
                info.size = member.source.stat().st_size
                with open(member.source, "rb") as fh:
                    tar.addfile(info, fh)
    os.replace(tmp, dest)
