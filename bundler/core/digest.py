"""The one sha256 of a file (and its size), read in large blocks with the GIL released.

Everything that hashes a whole file on disk calls ``hash_file`` or ``sha256_file``: the cache's
re-check, SHA256SUMS, bundle verification, the runtime's wheels, S3 transfers.  Streams that are
hashed while they are written (downloads) keep their own ``hashlib`` object.  Imports nothing of
the project.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK = 4 * 1024 * 1024


def hash_file(path: Path, limit: int | None = None, algorithm: str = "sha256") -> tuple[str, int]:
    """(hex digest, bytes read) of ``path``, or of its first ``limit`` bytes."""
    h = hashlib.new(algorithm)
    size = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        with open(fd, "rb", buffering=0, closefd=False) as f:
            buf = bytearray(CHUNK)
            view = memoryview(buf)
            while limit is None or size < limit:
                want = CHUNK if limit is None else min(CHUNK, limit - size)
                n = f.readinto(view[:want])
                if not n:
                    break
                h.update(view[:n])
                size += n
    finally:
        os.close(fd)
    return h.hexdigest(), size


def sha256_file(path: Path) -> str:
    return hash_file(path)[0]
