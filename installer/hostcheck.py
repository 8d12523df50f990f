"""The host checks: what ``bosh-install install`` checks before it changes anything.

Right host, enough disk, root, tools.  ``host_problems`` collects every problem (``Problem``) and
``require_host_checks`` raises one ``BundleError`` listing them all ("preflight failed, nothing was
changed"), so the operator fixes everything in one go.  The host checks read the target's
``/etc/os-release`` (inside ``--root`` when given) and compare ``ID``/``VERSION_ID``/
``VERSION_CODENAME`` and the machine's architecture with the lock's ``target``; they ask for free
space of ``DISK_FACTOR`` times the larger of the payload and the lock's total on the state
directory's filesystem (extraction plus the Ruby build); they require euid 0 and the commands the
first steps use (``chroot`` with ``--root``, ``dpkg`` inside the root).  Commands that the debs
bring (``make``, ``gcc``) are checked by the Ruby step itself, after the debs are in.  (The AWS
account's checks are ``installer.aws.checks``.)

Imports the lock, the problem type and the error types.
"""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bundler.core.errors import BundleError
from bundler.core.lock import Lock
from bundler.core.problems import Problem
from bundler.core.sizes import format_size

DISK_FACTOR = 3
# uname -m -> Debian architecture
MACHINE_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "i686": "i386", "i386": "i386", "armv7l": "armhf"}


@dataclass
class Host:
    """Facts about the host, gathered in one place so a test can describe another host."""

    root: Path
    euid: int = field(default_factory=os.geteuid)
    machine: str = field(default_factory=platform.machine)
    free_bytes: Callable[[Path], int] | None = None

    def free(self, path: Path) -> int:
        if self.free_bytes is not None:
            return self.free_bytes(path)
        probe = Path(path)
        while not probe.exists():
            probe = probe.parent
        st = os.statvfs(probe)
        return st.f_bavail * st.f_frsize


def read_os_release(root: Path) -> dict[str, str]:
    for rel in ("etc/os-release", "usr/lib/os-release"):
        path = root / rel
        if path.is_file():
            out = {}
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                key, sep, value = line.partition("=")
                if sep and key.strip() and not key.startswith("#"):
                    out[key.strip()] = value.strip().strip("\"'")
            return out
    return {}


def has_command(root: Path, name: str) -> bool:
    if root == Path("/"):
        return shutil.which(name) is not None
    return any(
        (root / d / name).exists() for d in ("usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin")
    )


def host_problems(
    lock: Lock, bundle: Path, host: Host, state_dir: Path, chroot: bool, needs_dpkg: bool
) -> list[Problem]:
    """Every reason not to go ahead; empty when all is well."""
    problems = []
    if host.euid != 0:
        problems.append(
            Problem(f"running as uid {host.euid}", "the installer must run as root (sudo bosh-install install …)")
        )
    target = dict(lock.target)
    problems += _release_problems(host.root, target)
    arch = MACHINE_ARCH.get(host.machine, host.machine)
    if target.get("arch") and arch != target.get("arch"):
        problems.append(
            Problem(
                "",
                f"this bundle is for {target.get('arch')}, but this machine is {arch} ({host.machine}):"
                " build a bundle for this architecture",
            )
        )
    need = DISK_FACTOR * payload_size(bundle, lock)
    free = host.free(state_dir)
    if free < need:
        problems.append(
            Problem(
                str(state_dir),
                f"{format_size(free)} free, need {format_size(need)} ({DISK_FACTOR}x the payload, for extraction"
                " and the Ruby build): free some space or give --state-dir on a larger filesystem",
            )
        )
    if chroot and shutil.which("chroot") is None:
        problems.append(Problem("", "the 'chroot' command is missing (coreutils)"))
    if needs_dpkg and not has_command(host.root, "dpkg"):
        problems.append(Problem("", f"'dpkg' is missing in {host.root}: this installer needs a Debian-family system"))
    return problems


def _release_problems(root: Path, target: dict[str, str]) -> list[Problem]:
    """The root's os-release against the lock's target."""
    osr = read_os_release(root)
    where = root / "etc/os-release"
    if not osr:
        return [Problem(str(where), f"missing; cannot tell whether this host is {_describe(target)}")]
    got_os, got_release = osr.get("ID", "?"), osr.get("VERSION_ID", "?")
    got_codename = osr.get("VERSION_CODENAME") or osr.get("UBUNTU_CODENAME") or "?"
    if (got_os, got_release) != (target.get("os"), target.get("release")) or (
        got_codename != "?" and got_codename != target.get("codename")
    ):
        message = (
            f"this bundle is for {_describe(target)}, but {where} says {got_os} {got_release} ({got_codename}):"
            " build a bundle for this host's release"
        )
        return [Problem("", message)]
    return []


def require_host_checks(
    lock: Lock, bundle: Path, host: Host, state_dir: Path, chroot: bool, needs_dpkg: bool, changed: str = ""
) -> None:
    """Raise one ``BundleError`` listing every host problem, if there is one.

    ``changed`` says what was changed before these checks (``install.sh`` may have installed the
    installer's own runtime), so that the message never says "nothing was changed" when it was."""
    problems = host_problems(lock, bundle, host, state_dir, chroot, needs_dpkg)
    if problems:
        lines = "\n  ".join(str(p) for p in problems)
        done = f"only {changed} changed" if changed else "nothing was changed"
        raise BundleError(f"preflight failed, {done}:\n  {lines}")


def payload_size(bundle: Path, lock: Lock) -> int:
    """The larger of the bytes of ``payload.7z`` (or its volumes) and the lock's total: what is
    extracted is the lock's artifacts, which a delta or compressed payload may undercount."""
    volumes = sorted(Path(bundle).glob("payload.7z*"))
    return max(sum(v.stat().st_size for v in volumes), lock.total_size)


def _describe(target: dict[str, str]) -> str:
    return f"{target.get('os')} {target.get('release')} ({target.get('codename')}) {target.get('arch')}"
