"""Where the real bosh-init and bosh CLI are, and how to run them offline.

``skip_reason()`` says why the real tools cannot run here (no ``../shared/upstream``, not root, no
``unshare``/``ip``), or None.  ``ensure_tools()`` returns the binaries in ``REPO/.bosh-tools``,
running ``build-bosh-tools.sh`` first when one is missing (1-2 minutes on 2 cores from a cold Go
cache; run by the same path as scripts/setup.sh runs it, since its stamp hashes that path).
``run_tool`` runs one of them with its own HOME (bosh-init keeps ``~/.bosh_init``, the CLI
``~/.bosh``) under ``unshare --net`` with the loopback up (bosh-init starts its registry on
127.0.0.1), so nothing can reach a network.

Imports only the standard library and ``tests.support.paths``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import REPO

# Resolved, as scripts/setup.sh names it: the build script's stamp hashes the path it was run by.
UPSTREAM = (REPO.parent / "shared" / "upstream").resolve()
BUILD_SCRIPT = UPSTREAM / "build-bosh-tools.sh"
CLI_SOURCES = UPSTREAM / "bosh-cli-7.9.13.tar.gz"
TOOLS_DIR = REPO / ".bosh-tools"
BUILD_TIMEOUT = 900  # a cold build is about 1-2 minutes on 2 cores; Go's download may add a little
RUN_TIMEOUT = 120
CACHE = Path(os.environ.get("BOSH_OFFLINE_E2E_CACHE", "/var/cache/bosh-offline-e2e"))
# Sets the loopback up inside the new network namespace, then runs the command.
_LO_UP = 'ip link set lo up 2>/dev/null; exec "$@"'


@dataclass(frozen=True)
class RealTools:
    bosh_init: Path
    bosh: Path
    build_seconds: float  # what ensure_tools took (the build, or the check that nothing changed)
    sources: str  # a digest of the upstream sources' SHA256SUMS (what the binaries are built from)


def skip_reason() -> str | None:
    """Why the real tools cannot run on this machine, or None."""
    if not UPSTREAM.is_dir() or not BUILD_SCRIPT.is_file():
        return f"the real BOSH sources are absent ({UPSTREAM}); see scripts/setup.sh"
    if os.geteuid() != 0:
        return "needs root (the real tools run under unshare --net)"
    missing = [c for c in ("unshare", "ip", "tar", "ruby") if shutil.which(c) is None]
    if missing:
        return f"needs {', '.join(missing)} (bosh-init renders job templates with ruby)"
    if subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode != 0:
        return "unshare --net does not work here"
    return None


def ensure_tools() -> RealTools:
    """REPO/.bosh-tools/{bosh-init,bosh}, built by build-bosh-tools.sh when either is missing (binaries
    already there are used as they are: scripts/setup.sh keeps them current).  RuntimeError if the
    build fails."""
    start = time.monotonic()
    bosh_init, bosh = TOOLS_DIR / "bosh-init", TOOLS_DIR / "bosh"
    if not (os.access(bosh_init, os.X_OK) and os.access(bosh, os.X_OK)):
        proc = subprocess.run(
            ["bash", str(BUILD_SCRIPT), str(TOOLS_DIR)], capture_output=True, text=True, timeout=BUILD_TIMEOUT
        )
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            raise RuntimeError(f"build-bosh-tools.sh failed (exit {proc.returncode}):\n{tail}")
        for binary in (bosh_init, bosh):
            if not os.access(binary, os.X_OK):
                raise RuntimeError(f"build-bosh-tools.sh left no executable {binary}")
    sums = hashlib.sha256((UPSTREAM / "SHA256SUMS").read_bytes()).hexdigest()[:16]
    return RealTools(bosh_init, bosh, time.monotonic() - start, sums)


def tool_env(home: Path, **extra: str) -> dict[str, str]:
    """A small environment: PATH, a private HOME, C locale, no proxies."""
    home.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def run_tool(
    argv: list[str | os.PathLike],
    *,
    home: Path,
    cwd: Path | None = None,
    offline: bool = True,
    timeout: float = RUN_TIMEOUT,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``argv`` (a real tool and its arguments) with HOME=home, under ``unshare --net`` when offline."""
    args = [str(a) for a in argv]
    if offline:
        args = ["unshare", "--net", "sh", "-c", _LO_UP, "sh", *args]
    return subprocess.run(
        args, cwd=cwd, env=env or tool_env(home), capture_output=True, text=True, timeout=timeout, check=False
    )
