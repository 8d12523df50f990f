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
- ``install.sh``: POSIX sh.  Checks ``bootstrap.tar.gz`` against ``SHA256SUMS`` before unpacking
  anything, unpacks it into a temporary directory, brings up Python (distro: ``dpkg -i`` the runtime
  debs unless a good enough python3 is already there; standalone: unpack the tarball), unpacks the
  wheels for it, then runs ``python3 -m installer install --bundle DIR "$@"`` with the installer's
  sources and the wheels first on ``PYTHONPATH``.

``bosh-bundle build`` calls ``write_bootstrap(lock, out_dir, cache)`` before it writes ``SHA256SUMS``.

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
from bundler.net.cache import artifact_path

# The offline side: the bundle core, the installer and its templates (nothing of the connected side).
SOURCE_TREES = ("bundler/__init__.py", "bundler/core", "installer", "manifests")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Python modules the installer needs at run time; a distro python3 lacking one gets the runtime debs.
NEEDED_MODULES = ("yaml", "py7zr")


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
    out = [Member("runtime/mode", None, f"{runtime.mode}\n".encode())]
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


INSTALL_SH = r"""#!/bin/sh
# bosh-offline bootstrap: install the BOSH toolchain from this bundle on a host without network.
#   sh install.sh [--yes] [--dry-run] [--root DIR] [--state-dir DIR] ...   (options of 'bosh-install install')
# Uses only sh, tar, gzip, sha256sum and dpkg (what a base system has). Checks bootstrap.tar.gz
# against SHA256SUMS, unpacks it, brings up Python, then runs the installer, which verifies the
# whole bundle before changing anything.
set -eu

say() { printf '%s install.sh: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

case "$0" in */*) here=${0%/*} ;; *) here=. ;; esac
here=$(cd "$here" && pwd) || die "cannot find the bundle directory"

for cmd in tar gzip sha256sum; do
    command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' is missing; it is part of every base system"
done
[ -f "$here/SHA256SUMS" ] || die "$here/SHA256SUMS is missing: copy the whole bundle directory"
[ -f "$here/bootstrap.tar.gz" ] || die "$here/bootstrap.tar.gz is missing: copy the whole bundle directory"

line=$(grep -E '^[0-9a-f]{64} [ *]bootstrap\.tar\.gz$' "$here/SHA256SUMS" || true)
[ -n "$line" ] || die "SHA256SUMS has no line for bootstrap.tar.gz: the bundle is incomplete"
expected=${line%% *}
actual=$(sha256sum "$here/bootstrap.tar.gz") || die "cannot read bootstrap.tar.gz"
actual=${actual%% *}
[ "$expected" = "$actual" ] ||
    die "bootstrap.tar.gz has sha256 $actual, SHA256SUMS says $expected: the bundle is corrupted; copy it again"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bosh-offline.XXXXXX") || die "cannot create a temporary directory"
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

gzip -dc "$here/bootstrap.tar.gz" | tar -xf - -C "$tmp" || die "cannot unpack bootstrap.tar.gz into $tmp"
mode=$(cat "$tmp/runtime/mode")

python_new_enough() {
    command -v "$1" >/dev/null 2>&1 && "$1" -c 'import sys
sys.exit(0 if sys.version_info >= (3, 10) else 1)' >/dev/null 2>&1
}
modules_ok() {
    PYTHONPATH="$tmp/src:$tmp/site" "$py" -c 'import @MODULES@' >/dev/null 2>&1
}
debs_installed=no
dpkg_stage() {
    [ $# -gt 0 ] || return 0
    DEBIAN_FRONTEND=noninteractive dpkg -i "$@" >>"$tmp/dpkg.log" 2>&1 || {
        grep -E '^dpkg: |^ ' "$tmp/dpkg.log" | tail -n 20 >&2
        die "dpkg could not install the runtime debs (see the lines above; full log $tmp/dpkg.log is removed on exit)"
    }
}
install_runtime_debs() {
    command -v dpkg >/dev/null 2>&1 || die "dpkg is missing: cannot install the installer's python3"
    [ "$(id -u)" = 0 ] || die "installing the installer's python3 needs root: run as root (sudo sh install.sh)"
    [ -s "$tmp/runtime/debs.order" ] ||
        die "the bundle carries no python3 debs and this host has no usable python3 (>= 3.10)"
    say "installing the installer's python3 from the bundle (dpkg -i)"
    debs=
    while IFS= read -r deb; do
        if [ "$deb" = "--" ]; then
            dpkg_stage $debs
            debs=
        elif [ -n "$deb" ]; then
            debs="$debs $tmp/runtime/debs/$deb"
        fi
    done < "$tmp/runtime/debs.order"
    dpkg_stage $debs
    debs_installed=yes
}
unpack_wheels() {
    set -- "$tmp"/runtime/wheels/*.whl
    [ -f "$1" ] || return 0
    "$py" -c 'import sys, zipfile
for wheel in sys.argv[2:]:
    zipfile.ZipFile(wheel).extractall(sys.argv[1])' "$tmp/site" "$@" || die "cannot unpack the installer's wheels"
}

mkdir "$tmp/site"
case "$mode" in
distro)
    py=python3
    if python_new_enough python3; then
        say "using this host's python3 ($(python3 -c 'import sys; print(sys.version.split()[0])'))"
    else
        install_runtime_debs
        python_new_enough python3 || die "python3 from the bundle is older than 3.10"
    fi
    unpack_wheels
    if ! modules_ok && [ "$debs_installed" = no ]; then
        install_runtime_debs
    fi
    ;;
standalone)
    name=$(cat "$tmp/runtime/python.name")
    mkdir "$tmp/python"
    gzip -dc "$tmp/runtime/$name" | tar -xf - -C "$tmp/python" || die "cannot unpack $name"
    py="$tmp/python/python/bin/python3"
    [ -x "$py" ] || die "$name has no python/bin/python3"
    unpack_wheels
    ;;
*) die "bootstrap.tar.gz names an unknown runtime mode '$mode'" ;;
esac
modules_ok || die "the installer's Python ($py) cannot import @MODULES@ even with the bundle's wheels"

status=0
PYTHONPATH="$tmp/src:$tmp/site" PYTHONDONTWRITEBYTECODE=1 "$py" -m installer install --bundle "$here" "$@" || status=$?
exit "$status"
""".replace("@MODULES@", ", ".join(NEEDED_MODULES))
