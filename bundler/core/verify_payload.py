"""Layers 1 and 2 of ``bundler.core.verify`` as one read: the files' sums and the members' sums, and layer 3.

``hash_bundle`` hashes everything ``SHA256SUMS`` lists and every payload member the lock names, on
every core.  An unencrypted COPY payload too big for the page cache is read from disk once
(``bundler.core.payloadscan``: each volume's sha256 and each member's sha256 in one pass); a smaller
one is hashed as independent tasks, volumes and members (``read_once_pays`` says which); an
encrypted payload is hashed as files and streamed through py7zr.
``verify_members`` (used by ``build`` for encrypted payloads) and ``check_payload_contents`` (the
content checkers on extracted artifacts) are the other two pieces.  Imports only ``bundler.core``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bundler.core.archive import Member, Payload
from bundler.core.bosh import compiled
from bundler.core.contents import CHECKERS, check_contents
from bundler.core.digest import sha256_file
from bundler.core.errors import IntegrityError
from bundler.core.extract import describe, member_problems, write_members
from bundler.core.lock import Lock
from bundler.core.payloadscan import read_once_pays, scan_payload
from bundler.core.progress import NO_PROGRESS, NullBar, TermProgress


@dataclass
class Hashed:
    files: dict[str, str] = field(default_factory=dict)  # listed file -> sha256
    member_problems: list[str] = field(default_factory=list)
    members_checked: int = 0
    contents_checked: int = 0
    encrypted: bool = False


def digest_problems(payload: Payload, lock: Lock, digests: dict[str, str]) -> list[str]:
    """The member list against the lock, then each hashed member's sha256 against the lock's."""
    problems = member_problems(payload.members, lock)
    wanted = {a.path: a for a in lock.artifacts}
    sizes = {m.name: m.size for m in payload.members}
    for name, digest in sorted(digests.items()):
        artifact = wanted[name]
        if digest != artifact.sha256 and sizes.get(name) == artifact.size:
            problems.append(
                f"{describe(artifact)}: payload member {name} has sha256 {digest}, bundle.lock says {artifact.sha256}"
            )
    return problems


def _wanted_members(payload: Payload, lock: Lock) -> dict[str, Member]:
    wanted = {a.path for a in lock.artifacts}
    return {m.name: m for m in payload.members if m.type == "file" and m.name in wanted}


def verify_members(
    payload: Payload, lock: Lock, jobs: int | None = None, pool: Executor | None = None, bar: NullBar | None = None
) -> tuple[list[str], int]:
    """Layer 2 alone: the member list against the lock, then every member's sha256; (problems, hashed)."""
    members = _wanted_members(payload, lock)
    bar = bar or NullBar()
    if payload.direct:

        def one(member: Member) -> tuple[str, str]:
            h = hashlib.sha256()
            for block in payload.iter_member(member):
                h.update(block)
                bar.advance(len(block))
            return member.name, h.hexdigest()

        order = sorted(members.values(), key=lambda m: -m.size)  # large first: the pool drains evenly
        try:
            if pool is not None:
                digests = dict(pool.map(one, order))
            else:
                with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1, thread_name_prefix="verify") as own:
                    digests = dict(own.map(one, order))
        except IntegrityError as exc:
            return [*member_problems(payload.members, lock), str(exc)], 0
    else:
        hashers: dict[str, hashlib._Hash] = {}

        def on_data(name: str, block: bytes) -> None:
            hashers.setdefault(name, hashlib.sha256()).update(block)
            bar.advance(len(block))

        try:
            payload.stream(on_data, names=sorted(members))
        except IntegrityError as exc:
            return [*member_problems(payload.members, lock), str(exc)], 0
        digests = {name: hashers.get(name, hashlib.sha256()).hexdigest() for name in members}
    return digest_problems(payload, lock, digests), len(digests)


def check_payload_contents(
    payload: Payload, lock: Lock, jobs: int | None = None, progress: TermProgress = NO_PROGRESS
) -> tuple[list[str], int]:
    """Layer 3: run the content checkers on the artifacts that have one (extracted to a temp dir)."""
    checked = [a for a in lock.artifacts if a.kind in CHECKERS]
    if not checked:
        return [], 0
    problems: list[str] = []
    bar = progress.bar("contents", sum(a.size for a in checked), files=len(checked))
    with bar, tempfile.TemporaryDirectory(prefix="bosh-bundle-verify.") as tmp:
        root = Path(tmp)
        write_members(payload, checked, root, jobs)
        for a in checked:
            problems.extend(check_contents(root.joinpath(*a.path.split("/")), a))
            bar.advance(a.size)
            bar.file_done()
        files = {a.path: root.joinpath(*a.path.split("/")) for a in checked}
        problems.extend(str(p) for p in compiled.bundle_problems(lock, files))  # compiled releases x stemcell
    return problems, len(checked)


def _hash_file(path: Path, bar: NullBar) -> str:
    digest = sha256_file(path)
    bar.advance(path.stat().st_size)
    bar.file_done()
    return digest


def _open(volumes: list[Path], lock: Lock | None, password: str | None, out: Hashed) -> Payload | None:
    if not volumes or lock is None:
        return None
    try:
        return Payload(volumes, password=password)
    except IntegrityError as exc:
        out.member_problems.append(str(exc))
        return None


def _hash_all(
    bundle: Path, listed: dict[str, str], payload: Payload | None, lock: Lock | None, jobs: int | None, bar: NullBar
) -> Hashed:
    out = Hashed()
    sizes = {n: (bundle / n).stat().st_size for n in listed}
    names = {v.name for v in payload.volumes} if payload is not None else set()
    one_read = payload is not None and payload.direct and names <= listed.keys() and read_once_pays(payload)
    others = sorted((n for n in listed if not (one_read and n in names)), key=lambda n: -sizes[n])
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1, thread_name_prefix="verify") as pool:
        futures = {n: pool.submit(_hash_file, bundle / n, bar) for n in others}
        if payload is not None and lock is not None and one_read:
            scan = scan_payload(payload, _wanted_members(payload, lock), bar)
            out.files.update(scan.volumes)
            bar.file_done(len(scan.volumes))
            out.member_problems += digest_problems(payload, lock, scan.members) + ([scan.error] if scan.error else [])
            out.members_checked = len(scan.members)
        elif payload is not None and lock is not None:
            out.member_problems, out.members_checked = verify_members(payload, lock, jobs, pool)
        out.files.update({n: f.result() for n, f in futures.items()})
    return out


def hash_bundle(
    bundle: Path,
    listed: dict[str, str],
    volumes: list[Path],
    lock: Lock | None,
    *,
    jobs: int | None = None,
    password: str | None = None,
    contents: bool = True,
    progress: TermProgress = NO_PROGRESS,
) -> Hashed:
    """sha256 of every listed file and of every payload member (one read of the volumes where it can),
    then the content checks; a "verify" bar (bytes, files) and a "contents" bar on ``progress``."""
    opened = Hashed()
    payload = _open(volumes, lock, password, opened)
    try:
        with progress.bar("verify", sum((bundle / n).stat().st_size for n in listed), files=len(listed)) as bar:
            out = _hash_all(bundle, listed, payload, lock, jobs, bar)
        out.member_problems = opened.member_problems + out.member_problems
        out.encrypted = payload is not None and payload.password is not None
        if payload is not None and lock is not None and contents and not out.member_problems:
            try:
                problems, out.contents_checked = check_payload_contents(payload, lock, jobs, progress)
            except IntegrityError as exc:
                problems = [str(exc)]
            out.member_problems += problems
    finally:
        if payload is not None:
            payload.close()
    return out
