"""``SHA256SUMS`` in coreutils format (``sha256sum -c`` reads it): writing, parsing, parallel hashing.

Each line is ``<64 hex>  <name>`` (two spaces: text mode, as ``sha256sum`` writes by default), names
relative to the bundle directory, sorted.  Hashing runs files in parallel threads (hashlib releases
the GIL on large blocks), so checking a split bundle uses every core.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path

SUMS = "SHA256SUMS"
CHUNK = 4 * 1024 * 1024
_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        with open(fd, "rb", buffering=0, closefd=False) as f:
            buf = bytearray(CHUNK)
            view = memoryview(buf)
            while n := f.readinto(buf):
                h.update(view[:n])
    finally:
        os.close(fd)
    return h.hexdigest()


def hash_files(paths: Iterable[Path], jobs: int | None = None) -> dict[Path, str]:
    """sha256 of each file, ``jobs`` at a time (default: one per core); largest files start first."""
    paths = sorted(set(paths), key=lambda p: -p.stat().st_size)
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(paths) <= 1:
        return {p: sha256_file(p) for p in paths}
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="sha256") as pool:
        return dict(zip(paths, pool.map(sha256_file, paths), strict=True))


def bundle_files(directory: Path) -> list[str]:
    """Every regular file under ``directory`` except SHA256SUMS, as sorted relative POSIX names."""
    directory = Path(directory)
    names = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in files:
            rel = Path(root, name).relative_to(directory).as_posix()
            if rel != SUMS:
                names.append(rel)
    return sorted(names)


def format_sums(digests: dict[str, str]) -> str:
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(digests.items()))


def submit_hashes(pool: Executor, directory: Path) -> dict[str, Future[str]]:
    """Start hashing every file of ``directory`` (largest first) on ``pool``; name -> future sha256."""
    directory = Path(directory)
    names = sorted(bundle_files(directory), key=lambda n: -(directory / n).stat().st_size)
    return {n: pool.submit(sha256_file, directory / n) for n in names}


def write_sums(directory: Path, jobs: int | None = None) -> dict[str, str]:
    """Hash every file in ``directory`` and write SHA256SUMS beside them; returns name -> sha256."""
    directory = Path(directory)
    names = bundle_files(directory)
    hashed = hash_files([directory / n for n in names], jobs)
    digests = {n: hashed[directory / n] for n in names}
    save_sums(directory, digests)
    return digests


def save_sums(directory: Path, digests: dict[str, str]) -> None:
    """Write SHA256SUMS (atomically) from name -> sha256."""
    tmp = directory / (SUMS + ".tmp")
    tmp.write_text(format_sums(digests), encoding="utf-8")
    os.replace(tmp, directory / SUMS)


def parse_sums(text: str) -> tuple[dict[str, str], list[str]]:
    """name -> sha256, and a problem for every line that is not ``<sha256>  <name>``."""
    digests: dict[str, str] = {}
    problems = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if not m:
            problems.append(f"{SUMS}:{lineno}: not a '<sha256>  <file>' line")
            continue
        name = m.group(2)
        if name in digests:
            problems.append(f"{SUMS}:{lineno}: {name} is listed twice")
        digests[name] = m.group(1).lower()
    return digests, problems
