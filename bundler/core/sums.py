"""``SHA256SUMS`` in coreutils format (``sha256sum -c`` reads it): writing, parsing, parallel hashing.

Each line is ``<64 hex>  <name>`` (two spaces: text mode, as ``sha256sum`` writes by default), names
relative to the bundle directory, sorted.  Hashing runs files in parallel threads (hashlib releases
the GIL on large blocks), so checking a split bundle uses every core; each file is hashed by
``bundler.core.digest``.  The one parser is ``parse_sums`` (every problem, for ``verify``);
``read_sums`` is its strict form for a sums file that decides what to download (S3 ``fetch``).
Imports only ``bundler.core``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path

from bundler.core.digest import sha256_file
from bundler.core.errors import InputError
from bundler.core.lock import is_safe_member_path
from bundler.core.problems import Problem

SUMS = "SHA256SUMS"
SIGNATURE = SUMS + ".gpg"  # the detached signature over SUMS (bundler.core.signing): not listed in it
_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def hash_files(paths: Iterable[Path], jobs: int | None = None) -> dict[Path, str]:
    """sha256 of each file, ``jobs`` at a time (default: one per core); largest files start first."""
    paths = sorted(set(paths), key=lambda p: -p.stat().st_size)
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(paths) <= 1:
        return {p: sha256_file(p) for p in paths}
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="sha256") as pool:
        return dict(zip(paths, pool.map(sha256_file, paths), strict=True))


def bundle_files(directory: Path) -> list[str]:
    """Every regular file under ``directory`` except SHA256SUMS and its signature, as sorted relative POSIX names."""
    directory = Path(directory)
    names = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in files:
            rel = Path(root, name).relative_to(directory).as_posix()
            if rel not in (SUMS, SIGNATURE):
                names.append(rel)
    return sorted(names)


def format_sums(digests: dict[str, str]) -> str:
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(digests.items()))


def submit_hashes(pool: Executor, directory: Path, skip: Collection[str] = ()) -> dict[str, Future[str]]:
    """Start hashing every file of ``directory`` but ``skip`` (largest first) on ``pool``; name -> future sha256."""
    directory = Path(directory)
    names = sorted((n for n in bundle_files(directory) if n not in skip), key=lambda n: -(directory / n).stat().st_size)
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


def _parse(text: str, source: str) -> tuple[dict[str, tuple[int, str]], list[Problem]]:
    found: dict[str, tuple[int, str]] = {}
    problems = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if not m:
            problems.append(Problem(f"{source}:{lineno}", "not a '<sha256>  <file>' line"))
            continue
        name = m.group(2)
        if name in found:
            problems.append(Problem(f"{source}:{lineno}", f"{name} is listed twice"))
        found[name] = (lineno, m.group(1).lower())
    return found, problems


def parse_sums(text: str, source: str = SUMS) -> tuple[dict[str, str], list[Problem]]:
    """name -> sha256 (lowercase), and a problem for every line that is not ``<sha256>  <name>`` or
    repeats a name.  Names are as written: the caller judges them (``is_safe_member_path``)."""
    found, problems = _parse(text, source)
    return {name: digest for name, (_, digest) in found.items()}, problems


def read_sums(text: str, source: str) -> dict[str, str]:
    """name -> sha256 of a sums file that must be right: ``InputError`` naming every bad line, every
    name that is not a file inside the bundle (or is SHA256SUMS itself), or a file that lists nothing."""
    found, problems = _parse(text, source)
    for name, (lineno, _) in found.items():
        if not is_safe_member_path(name) or name == SUMS:
            problems.append(Problem(f"{source}:{lineno}", f"{name!r} is not a file name inside the bundle"))
    if not found and not problems:
        problems.append(Problem(source, "lists no files"))
    if problems:
        raise InputError("; ".join(str(p) for p in problems))
    return {name: digest for name, (_, digest) in found.items()}
