"""A bundle directory written beside its final place and renamed into it only when complete.

``build`` and ``resplit`` write through ``new_bundle_dir``: a failure (or Ctrl-C) removes the
partial directory, so an operator never finds half a bundle under ``--out``; an OSError becomes one
line naming the directory.

A run killed outright (``kill -9``, a lost machine) cannot clean up, so each work directory
``.OUT.XXXXXXXX.building`` (or ``.resplit``) has a lock file beside it, ``….building.lock``, holding
its process id and an exclusive ``flock`` for the whole run (the lock cannot sit inside: every file
there is part of the bundle).  The next run into the same OUT removes the leftovers whose lock it can
take (``remove_stale``): the kernel drops a dead process's lock, so a lock that can be taken has no
owner left.  Only names of that exact form for that OUT are considered; a work directory without its
lock file (killed between the two ``open`` calls, or written by an older version) is left alone,
since nothing tells it from one a live run is starting.

Imports only ``bundler.core``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bundler.core.errors import BundleError

log = logging.getLogger(__name__)

WORK_SUFFIXES = (".building", ".resplit")  # build's and resplit's work directories
LOCK_SUFFIX = ".lock"  # beside each work directory: <work>.lock
_RANDOM = "[a-z0-9_]{8}"  # the random part tempfile.mkdtemp puts between prefix and suffix
_ATTEMPTS = 5


def work_name_pattern(out_name: str) -> re.Pattern[str]:
    """The names of the work directories of runs into a directory named ``out_name`` (full match)."""
    suffixes = "|".join(re.escape(s) for s in WORK_SUFFIXES)
    return re.compile(rf"\.{re.escape(out_name)}\.{_RANDOM}(?:{suffixes})")


def _lock_path(work: Path) -> Path:
    return work.with_name(work.name + LOCK_SUFFIX)


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (not removed, not replaced)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (opened.st_dev, opened.st_ino)


def _locked_work_dir(out: Path, suffix: str) -> tuple[Path, int]:
    """A new work directory beside ``out`` and the descriptor of its lock file, locked.

    The lock file is created just after the directory and locked at once; should another run's
    ``remove_stale`` take it in between, it removes both, which is seen here and tried again."""
    for _ in range(_ATTEMPTS):
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=suffix, dir=out.parent))
        lock = _lock_path(work)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(fd, lock) and work.is_dir():
            os.write(fd, f"{os.getpid()}\n".encode())
            return work, fd
        os.close(fd)
        shutil.rmtree(work, ignore_errors=True)
    raise BundleError(f"{out.parent}: could not start a work directory for {out.name}; another run removes them")


def _release(work: Path, fd: int) -> None:
    """Remove the lock file (if still ours), then drop the lock."""
    try:
        if _same_file(fd, _lock_path(work)):
            os.unlink(_lock_path(work))
    finally:
        os.close(fd)


def _remove_if_stale(work: Path) -> bool:
    """Remove ``work`` and its lock file if no live process holds the lock; whether it did."""
    lock = _lock_path(work)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return False  # gone meanwhile, a symlink, or not ours to open
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        log.debug("%s: in use by a running build or re-split; left alone", work)
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode) or not _same_file(fd, lock):
            return False
        pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        try:
            kind = stat.S_IFMT(os.lstat(work).st_mode)
        except FileNotFoundError:
            kind = None  # killed after the rename: only the lock file is left
        if kind not in (None, stat.S_IFDIR):
            log.warning("%s: not a directory, though named like a work directory; left alone", work)
            return False
        if kind == stat.S_IFDIR:
            shutil.rmtree(work)
        os.unlink(lock)
        log.info("removed %s, left by an interrupted build or re-split (process %s)", work, pid)
        return True
    except OSError as exc:
        log.warning("%s: left by an interrupted run, could not be removed: %s", work, exc.strerror or exc)
        return False
    finally:
        os.close(fd)


def remove_stale(out: Path) -> list[Path]:
    """Remove the work directories runs into ``out`` left when they were killed; the ones removed."""
    pattern = work_name_pattern(out.name)
    try:
        names = sorted(os.listdir(out.parent))
    except OSError:
        return []
    works = [n[: -len(LOCK_SUFFIX)] for n in names if n.endswith(LOCK_SUFFIX)]
    return [out.parent / w for w in works if pattern.fullmatch(w) and _remove_if_stale(out.parent / w)]


@contextmanager
def new_bundle_dir(out: Path, suffix: str, what: str) -> Iterator[Path]:
    """Yield a fresh directory beside ``out``; on success it replaces ``out`` (absent or empty).

    Leftovers of killed runs into ``out`` are removed first (``remove_stale``); ``suffix`` is one of
    ``WORK_SUFFIXES``."""
    if suffix not in WORK_SUFFIXES:
        raise ValueError(f"work directory suffix {suffix!r} is not one of {WORK_SUFFIXES}")
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    tmp, lock_fd = _locked_work_dir(out, suffix)
    try:
        yield tmp
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, BundleError):
            raise BundleError(f"writing {what} into {tmp}: {exc}") from None
        raise
    finally:
        _release(tmp, lock_fd)
