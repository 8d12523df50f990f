"""The ``.part`` file of a download in progress: locked, hashed as it grows, renamed into the cache at the end.

A download whose sha256 is known lives in ``CACHE/sha256/ab/abcd….part`` (``part_path``) until it is
verified, and an interrupted one is resumed from there by the next run (only the bytes already on
disk are re-hashed).  A download whose sha256 is learned while it streams (a lock-time first
download) lives in a fresh ``CACHE/tmp/*.part`` (``PartFile.scratch_in``), removed unless committed.
An ``flock`` on the open file lets two builds sharing a cache wait for each other instead of writing
the same file twice.  Imports only the cache layout (``bundler.net.cache``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from pathlib import Path

from bundler.net.cache import artifact_path

CHUNK = 1024 * 1024


def part_path(cache: Path, sha256: str) -> Path:
    dest = artifact_path(cache, sha256)
    return dest.with_name(dest.name + ".part")


class PartFile:
    """An open, locked ``.part`` file with the running sha256 of the bytes it holds."""

    def __init__(self, path: Path, scratch: bool = False) -> None:
        self.path = Path(path)
        self.scratch = scratch  # removed when closed without being committed
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # another process renamed or removed it while we waited
        self.fd = fd
        self.hash = hashlib.sha256()
        self.size = 0
        self.committed = False

    @classmethod
    def scratch_in(cls, cache: Path) -> PartFile:
        """A new, empty ``.part`` under ``CACHE/tmp`` for bytes whose sha256 is not known yet."""
        tmp_dir = Path(cache) / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp_dir, suffix=".part")
        os.close(fd)
        return cls(Path(name), scratch=True)

    def load(self, limit: int) -> None:
        """Hash the bytes already there (a resumed download); drop them if there are more than ``limit``."""
        on_disk = os.fstat(self.fd).st_size
        if on_disk > limit:
            self.reset()
            return
        os.lseek(self.fd, 0, os.SEEK_SET)
        while self.size < on_disk:
            block = os.read(self.fd, min(CHUNK, on_disk - self.size))
            if not block:
                break
            self.hash.update(block)
            self.size += len(block)
        os.ftruncate(self.fd, self.size)

    def reset(self) -> None:
        os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, block: bytes) -> int:
        os.lseek(self.fd, self.size, os.SEEK_SET)
        view = memoryview(block)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.hash.update(block)
        self.size += len(block)
        return len(block)

    def flush(self) -> None:
        pass  # writes go straight to the file; ``commit`` syncs it

    def hexdigest(self) -> str:
        return self.hash.hexdigest()

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def commit(self, dest: Path) -> Path:
        """Sync the bytes and rename the file to ``dest`` (its verified place in the cache)."""
        os.fsync(self.fd)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, dest)
        self.committed = True
        return dest

    def close(self) -> None:
        if self.scratch and not self.committed:
            self.discard()
        os.close(self.fd)  # releases the flock
