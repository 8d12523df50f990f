"""A minimal chroot for installer tests: this machine's own sh, dpkg, make and a few coreutils, with
the shared libraries ``ldd`` names, plus an empty dpkg database and this machine's os-release.

Enough for ``bosh-install install --root DIR`` to run real ``dpkg -i`` (with maintainer scripts) and
the fake Ruby's configure/make inside ``chroot DIR``; built once per test session (~1 s) and copied
per test.  A stand-in ``cc`` satisfies the Ruby step's check for a compiler.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.support.installfixtures import make_dpkg_root

COMMANDS = (
    "sh", "dash", "dpkg", "dpkg-deb", "dpkg-split", "dpkg-query", "dpkg-trigger", "ldconfig",
    "start-stop-daemon", "rm", "sleep", "cat", "mkdir", "make", "sed", "chmod", "mv", "cp", "ls", "tar",
    "diff", "find", "echo", "touch", "ln", "readlink", "uname", "id", "date", "env", "true", "grep",
)  # fmt: skip
_LIB = re.compile(r"(/\S+) \(0x")


def _libraries(binary: str) -> set[str]:
    proc = subprocess.run(["ldd", binary], capture_output=True, text=True)
    return set(_LIB.findall(proc.stdout))


def _copy(src: str, root: Path) -> None:
    dest = root / src.lstrip("/")
    if dest.exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(os.path.realpath(src), dest)


def make_miniroot(root: Path) -> Path:
    for d in ("bin", "sbin", "lib", "lib64"):
        (root / "usr" / d).mkdir(parents=True, exist_ok=True)
        os.symlink(f"usr/{d}", root / d)
    for d in ("tmp", "etc", "usr/local/bin", "var/lib"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    for name in COMMANDS:
        path = shutil.which(name)
        if path is None:
            continue
        _copy(path, root)
        for lib in _libraries(os.path.realpath(path)):
            _copy(lib, root)
    shutil.copy2("/etc/os-release", root / "etc/os-release")
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\n")
    cc = root / "usr/bin/cc"
    cc.write_text('#!/bin/sh\necho "stand-in cc: $*"\n')
    cc.chmod(0o755)
    make_dpkg_root(root)
    return root


def copy_miniroot(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest, symlinks=True)
    return dest
