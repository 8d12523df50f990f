"""Verifying a bundle directory, the same code for ``bosh-bundle verify`` and ``bosh-install verify``.

Three layers, each reporting every problem it finds (a ``Report``), each naming the file, volume or
artifact concerned:

1. ``SHA256SUMS``: every listed file is present and hashes right (files hashed in parallel); no file
   is there that it does not list; payload volumes are numbered without gaps and together hold the
   number of bytes the 7z signature header announces (so a truncated or missing volume is named).
2. The payload against ``bundle.lock``: the member list matches the lock exactly (no extra,
   missing, unsafe or wrongly sized member), and every member's sha256 equals the lock's.  Members
   are hashed straight from the volumes in parallel (unencrypted COPY payloads) or streamed through
   py7zr; nothing is extracted to disk for this.
3. Content checks (``bundler.core.contents``): artifacts that describe themselves (gems, releases,
   stemcells) are extracted into a temporary directory and their self-description compared with
   the lock.

``verify_members`` is also used by ``bosh-bundle build`` to check the payload it just wrote.

Imports only ``bundler.core`` (the offline side runs it).
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bundler.core.archive import Member, Payload
from bundler.core.contents import CHECKERS, check_contents
from bundler.core.digest import sha256_file
from bundler.core.errors import InputError, IntegrityError
from bundler.core.extract import describe, member_problems, write_members
from bundler.core.lock import Lock, is_safe_member_path, parse_lock
from bundler.core.sums import SUMS, bundle_files, parse_sums
from bundler.core.volumes import PAYLOAD, find_volumes, volume_name

LOCK = "bundle.lock"
_SIGNATURE = b"7z\xbc\xaf\x27\x1c"


@dataclass
class Report:
    bundle: str
    problems: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    files_checked: int = 0
    members_checked: int = 0
    contents_checked: int = 0
    encrypted: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def expected_payload_size(first_volume: Path) -> int | None:
    """Total bytes of the 7z archive according to its signature header (None if unreadable)."""
    try:
        with open(first_volume, "rb") as f:
            head = f.read(32)
    except OSError:
        return None
    if len(head) < 32 or head[:6] != _SIGNATURE:
        return None
    next_offset, next_size = struct.unpack("<QQ", head[12:28])
    return 32 + next_offset + next_size


def _read_sums(bundle: Path, report: Report) -> dict[str, str]:
    """Layer 1 without hashing: parse SHA256SUMS, name stray and missing files; returns what to hash."""
    sums_path = bundle / SUMS
    if not sums_path.is_file():
        report.problems.append(f"{SUMS} is missing: the bundle's files cannot be checked")
        return {}
    listed, bad_lines = parse_sums(sums_path.read_text(encoding="utf-8", errors="replace"))
    report.problems.extend(str(p) for p in bad_lines)
    for name in [n for n in listed if not is_safe_member_path(n)]:
        report.problems.append(f"{SUMS} names {name!r}, which is not a file inside the bundle")
        del listed[name]
    for name in bundle_files(bundle):
        if name not in listed:
            report.problems.append(f"{name}: stray file, not listed in {SUMS} (remove it, or rebuild the bundle)")
    for name in sorted(listed):
        if not (bundle / name).is_file():
            report.problems.append(f"{name} is missing (listed in {SUMS})")
    return {n: d for n, d in listed.items() if (bundle / n).is_file()}


def _sums_problem(name: str, digest: str, listed: str) -> str:
    what = "volume" if name.startswith(PAYLOAD) else "file"
    return f"{name}: {what} is damaged or altered (sha256 {digest}, {SUMS} says {listed})"


def _check_volumes(bundle: Path, report: Report) -> list[Path]:
    """Numbering and total size of the payload volumes; returns them if the payload is complete."""
    volumes = find_volumes(bundle)
    report.volumes = [v.name for v in volumes]
    if not volumes:
        report.problems.append(f"no payload: neither {PAYLOAD} nor {volume_name(1)} is there")
        return []
    complete = True
    if volumes[0].name != PAYLOAD:
        numbers = [int(v.name.rsplit(".", 1)[1]) for v in volumes]
        for n in range(1, numbers[-1] + 1):
            if n not in numbers:
                report.problems.append(f"{volume_name(n)} is missing: the payload volumes go up to {volumes[-1].name}")
                complete = False
        sizes = [v.stat().st_size for v in volumes]
        for v, size in zip(volumes[1:-1], sizes[1:-1], strict=True):
            if size != sizes[0]:
                report.problems.append(f"{v.name} has {size} bytes where every volume but the last has {sizes[0]}")
                complete = False
    expected = expected_payload_size(volumes[0])
    held = sum(v.stat().st_size for v in volumes)
    if expected is None:
        report.problems.append(f"{volumes[0].name}: does not start with a 7z signature header")
        return []
    if held < expected and complete:
        report.problems.append(
            f"{volumes[-1].name} is truncated or later volumes are missing: the payload needs {expected} bytes,"
            f" the volumes hold {held}"
        )
        complete = False
    elif held > expected:
        report.problems.append(f"{volumes[-1].name}: {held - expected} bytes after the end of the 7z archive")
    return volumes if complete else []


def verify_members(
    payload: Payload, lock: Lock, jobs: int | None = None, pool: Executor | None = None
) -> tuple[list[str], int]:
    """Layer 2: the member list against the lock, then every member's sha256; (problems, members hashed).

    With ``pool``, member hashing shares that executor (``verify_bundle`` hashes the volumes there
    too, so a single large volume and the members inside it are hashed on different cores)."""
    problems = member_problems(payload.members, lock)
    wanted = {a.path: a for a in lock.artifacts}
    members = {m.name: m for m in payload.members if m.type == "file" and m.name in wanted}
    digests: dict[str, str] = {}
    if payload.direct:

        def one(member: Member) -> tuple[str, str]:
            h = hashlib.sha256()
            for block in payload.iter_member(member):
                h.update(block)
            return member.name, h.hexdigest()

        # Large members first so the pool drains evenly.
        order = sorted(members.values(), key=lambda m: -m.size)
        try:
            if pool is not None:
                digests = dict(pool.map(one, order))
            else:
                with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1, thread_name_prefix="verify") as own:
                    digests = dict(own.map(one, order))
        except IntegrityError as exc:
            return [*problems, str(exc)], 0
    else:
        hashers: dict[str, hashlib._Hash] = {}

        def on_data(name: str, block: bytes) -> None:
            hashers.setdefault(name, hashlib.sha256()).update(block)

        try:
            payload.stream(on_data, names=sorted(members))
        except IntegrityError as exc:
            return [*problems, str(exc)], 0
        digests = {name: hashers.get(name, hashlib.sha256()).hexdigest() for name in members}
    for name, digest in sorted(digests.items()):
        artifact = wanted[name]
        if digest != artifact.sha256 and members[name].size == artifact.size:
            problems.append(
                f"{describe(artifact)}: payload member {name} has sha256 {digest}, bundle.lock says {artifact.sha256}"
            )
    return problems, len(digests)


def check_payload_contents(payload: Payload, lock: Lock, jobs: int | None = None) -> tuple[list[str], int]:
    """Layer 3: run the content checkers on the artifacts that have one (extracted to a temp dir)."""
    checked = [a for a in lock.artifacts if a.kind in CHECKERS]
    if not checked:
        return [], 0
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bosh-bundle-verify.") as tmp:
        root = Path(tmp)
        write_members(payload, checked, root, jobs)
        for a in checked:
            problems.extend(check_contents(root.joinpath(*a.path.split("/")), a))
    return problems, len(checked)


def verify_bundle(
    bundle_dir: Path | str, jobs: int | None = None, password: str | None = None, contents: bool = True
) -> Report:
    """Check a bundle directory; ``Report.problems`` lists everything wrong (empty when all is right).

    Raises ``InputError`` only when the directory does not exist or the payload is encrypted and no
    password was given.
    """
    bundle = Path(bundle_dir)
    if not bundle.is_dir():
        raise InputError(f"{bundle}: no such bundle directory")
    report = Report(str(bundle))
    listed = _read_sums(bundle, report)
    volumes = _check_volumes(bundle, report)

    lock: Lock | None = None
    if (bundle / LOCK).is_file():
        if LOCK in listed:
            digest = sha256_file(bundle / LOCK)
            report.files_checked += 1
            if digest != listed.pop(LOCK):
                report.problems.append(f"{LOCK} does not match {SUMS}: the lock was edited after the bundle was built")
        try:
            lock = parse_lock((bundle / LOCK).read_text(encoding="utf-8"), str(bundle / LOCK))
        except InputError as exc:
            report.problems.append(str(exc))
    elif (bundle / SUMS).is_file():
        report.problems.append(f"{LOCK} is missing")

    workers = jobs or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify") as pool:
        # Largest files first; member hashing (below) queues behind them and fills idle cores.
        order = sorted(listed, key=lambda n: -(bundle / n).stat().st_size)
        files = {name: pool.submit(sha256_file, bundle / name) for name in order}
        member_problems_: list[str] = []
        if volumes and lock is not None:
            try:
                with Payload(volumes, password=password) as payload:
                    report.encrypted = payload.password is not None
                    member_problems_, report.members_checked = verify_members(payload, lock, jobs, pool)
                    if contents and not member_problems_:
                        problems, report.contents_checked = check_payload_contents(payload, lock, jobs)
                        member_problems_ += problems
            except IntegrityError as exc:
                member_problems_.append(str(exc))
        for name in sorted(files):
            digest = files[name].result()
            report.files_checked += 1
            if digest != listed[name]:
                report.problems.append(_sums_problem(name, digest, listed[name]))
    report.problems.extend(member_problems_)
    return report


def render(report: Report) -> str:
    """The human-readable verdict: every problem on its own line, then a summary line."""
    lines = [f"  - {p}" for p in report.problems]
    vols = f"{len(report.volumes)} volume{'s' if len(report.volumes) != 1 else ''}"
    summary = (
        f"{report.files_checked} files, {vols}, {report.members_checked} payload members,"
        f" {report.contents_checked} content checks"
    )
    if report.ok:
        return f"{report.bundle}: OK ({summary})"
    head = f"{report.bundle}: {len(report.problems)} problem{'s' if len(report.problems) != 1 else ''}"
    return "\n".join([f"{head} ({summary}):", *lines])
