"""One run at a time: an exclusive lock on the state directory, as apt locks its own.

``install``, ``deploy``, ``destroy`` and ``fetch`` hold ``STATE_DIR/lock`` (``fcntl.flock``,
exclusive, not waiting) for as long as they run; the file holds the holder's PID.  A second run is
refused in one line naming that PID.  The kernel drops the lock when its holder dies (even by
SIGKILL), so a lock file left behind is never stale: whoever gets the lock may clean up what a dead
run left (staging directories, half-written files).  ``is_held(state_dir)`` asks without taking
it.  ``install.sh`` takes the same lock with ``flock(1)`` before it changes anything and passes
the descriptor down (``$BOSH_OFFLINE_LOCK_FD``).

Imports only the project's error types.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from bundler.core.errors import InputError

LOCK_NAME = "lock"
# install.sh locks the state directory itself (flock(1) on this descriptor) before it installs the
# installer's runtime, and hands the descriptor down: the installer then holds it already.
FD_ENV = "BOSH_OFFLINE_LOCK_FD"


class Busy(InputError):
    """Another run holds the state directory."""


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""


@contextlib.contextmanager
def state_lock(state_dir: Path, what: str = "bosh-install") -> Iterator[Path]:
    """Hold the exclusive lock of ``state_dir`` (created if missing) for the ``with`` block."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_NAME
    if _inherited(path):
        yield path  # install.sh took this very lock and handed it down; it names its own PID
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _holder(fd)
            who = f"process {pid}" if pid else "another process"
            raise Busy(
                f"{path}: held by {who} ({what} runs one at a time on {state_dir}); wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def _inherited(path: Path) -> bool:
    """Whether the descriptor named by ``$BOSH_OFFLINE_LOCK_FD`` is this lock file, locked by our parent."""
    value = os.environ.get(FD_ENV, "")
    if not value.isdigit():
        return False
    try:
        held, here = os.fstat(int(value)), os.stat(path)
    except OSError:
        return False
    if (held.st_dev, held.st_ino) != (here.st_dev, here.st_ino):
        return False
    try:
        fcntl.flock(int(value), fcntl.LOCK_EX | fcntl.LOCK_NB)  # the same open file: succeeds if it is ours
    except OSError:
        return False
    return True


def is_held(state_dir: Path) -> int | None:
    """The PID holding ``state_dir``'s lock (0 if unknown), or None when nobody holds it."""
    path = Path(state_dir) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _holder(fd)
            return int(pid) if pid else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
