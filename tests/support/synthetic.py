"""Small synthetic artifacts and hand-written locks for fetch/build/verify tests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from bundler.core.lock import Artifact, Lock, write_lock


def make_files(root: Path, sizes: dict[str, int], seed: int = 0) -> dict[str, bytes]:
    """Write files named ``name`` with deterministic pseudo-random bytes; returns name -> bytes."""
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, (name, size) in enumerate(sorted(sizes.items())):
        block = hashlib.sha256(f"{seed}:{name}:{i}".encode()).digest()
        data = (block * (size // len(block) + 1))[:size]
        data = bytes(b ^ (j * 31 & 0xFF) for j, b in enumerate(data[:4096])) + data[4096:]
        (root / name).write_bytes(data)
        out[name] = data
    return out


def artifact(name: str, data: bytes, url: str, kind: str = "binary", path: str | None = None) -> Artifact:
    return Artifact(
        kind=kind,
        name=name,
        version="1.0",
        url=url,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        trust="pinned",
        path=path or f"bin/{name}",
    )


def write_test_lock(path: Path, artifacts: list[Artifact]) -> Lock:
    lock = Lock("test", {"os": "debian", "release": "12", "codename": "bookworm", "arch": "amd64"}, tuple(artifacts))
    write_lock(lock, path)
    return lock


def file_url(path: Path) -> str:
    return "file://" + os.path.abspath(path)
