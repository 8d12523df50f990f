"""Verifying a bundle directory, the same code for ``bosh-bundle verify`` and ``bosh-install verify``.

Three layers, each reporting every problem it finds (a ``Report``), each naming the file, volume or
artifact concerned:

1. ``SHA256SUMS``: every listed file is present and hashes right; no file is there that it does
   not list; payload volumes are numbered without gaps and together hold the number of bytes the
   7z signature header announces (so a truncated or missing volume is named).
2. The payload against ``bundle.lock``: the member list matches the lock exactly (no extra,
   missing, unsafe or wrongly sized member), and every member's sha256 equals the lock's.  Layers 1
   and 2 read each byte once (``bundler.core.verify_payload.hash_bundle``: the volume and member
   sums of an unencrypted payload come from the same pages, on two cores); an encrypted payload is
   streamed through py7zr.  Nothing is extracted to disk for this.
3. Content checks (``bundler.core.contents``): artifacts that describe themselves (gems, releases,
   stemcells) are extracted into a temporary directory and their self-description compared with
   the lock.

``sbom.cdx.json``, when there, must agree with the lock (``bundler.core.sbom.sbom_problems``).
Progress goes to the ``TermProgress`` given ("verify" and "contents" bars).

Imports only ``bundler.core`` (the offline side runs it).
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bundler.core.bundlemeta import META, read_meta
from bundler.core.delta import payload_lock
from bundler.core.digest import sha256_file
from bundler.core.errors import InputError
from bundler.core.lock import Lock, is_safe_member_path, parse_lock
from bundler.core.progress import NO_PROGRESS, TermProgress
from bundler.core.sbom import SBOM, sbom_problems
from bundler.core.signing import SignatureError, signature_policy
from bundler.core.sums import SUMS, bundle_files, parse_sums
from bundler.core.verify_payload import hash_bundle
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
    signed_by: str | None = None
    serial: int | None = None
    expires: str | None = None

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


def irregular_entries(bundle: Path) -> list[str]:
    """Names under ``bundle`` that are neither regular files nor directories (FIFOs, devices, sockets,
    symlinks): reported, never opened (a FIFO would block the reader forever)."""
    found = []
    for root, dirs, files in os.walk(bundle):
        for name in [*dirs, *files]:
            path = Path(root, name)
            mode = path.lstat().st_mode
            if path.is_symlink() or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                found.append(path.relative_to(bundle).as_posix())
        dirs[:] = [d for d in dirs if not Path(root, d).is_symlink()]
    return sorted(found)


def _freshness(bundle: Path, report: Report, now: float | None) -> None:
    try:
        meta = read_meta(bundle)
    except InputError as exc:
        report.problems.append(str(exc))
        return
    if meta is not None:
        report.serial = meta.serial
        report.expires = meta.expires
        if meta.expired(now):
            report.problems.append(
                f"{META}: the bundle expired on {meta.expires} (serial {meta.serial}); build a new one"
            )


def _read_lock(bundle: Path, listed: dict[str, str], report: Report) -> Lock | None:
    """The bundle's lock, checked against (and removed from) ``listed``; None if missing or unreadable."""
    if not (bundle / LOCK).is_file():
        if (bundle / SUMS).is_file():
            report.problems.append(f"{LOCK} is missing")
        return None
    if LOCK in listed:
        digest = sha256_file(bundle / LOCK)
        report.files_checked += 1
        if digest != listed.pop(LOCK):
            report.problems.append(f"{LOCK} does not match {SUMS}: the lock was edited after the bundle was built")
    try:
        return parse_lock((bundle / LOCK).read_text(encoding="utf-8"), str(bundle / LOCK))
    except InputError as exc:
        report.problems.append(str(exc))
        return None


def _check_sbom(bundle: Path, lock: Lock, report: Report) -> None:
    """``sbom.cdx.json`` against the lock, when both are there and the lock matched its sum (an
    edited lock is reported already; a bundle built before SBOMs has none)."""
    if not (bundle / SBOM).is_file() or any(p.startswith(f"{LOCK} does not match") for p in report.problems):
        return
    lock_sha256 = hashlib.sha256((bundle / LOCK).read_bytes()).hexdigest()
    text = (bundle / SBOM).read_text(encoding="utf-8", errors="replace")
    report.problems.extend(sbom_problems(text, lock, lock_sha256))


def verify_bundle(
    bundle_dir: Path | str,
    jobs: int | None = None,
    password: str | None = None,
    contents: bool = True,
    keyring: Path | None = None,
    require_signature: bool | None = None,
    now: float | None = None,
    progress: TermProgress = NO_PROGRESS,
) -> Report:
    """Check a bundle directory; ``Report.problems`` lists everything wrong (empty when all is right).

    With ``keyring`` the signature is checked first (``bundler.core.signing.signature_policy``): a
    signature that does not hold is the only problem reported and nothing else is read.
    Raises ``InputError`` only when the directory does not exist, the payload is encrypted and no
    password was given, or the signing options cannot be used.
    """
    bundle = Path(bundle_dir)
    if not bundle.is_dir():
        raise InputError(f"{bundle}: no such bundle directory")
    report = Report(str(bundle))
    try:
        report.signed_by = signature_policy(bundle, keyring, require_signature)
    except SignatureError as exc:
        report.problems.append(str(exc))
        return report
    irregular = irregular_entries(bundle)
    for name in irregular:
        report.problems.append(
            f"{name}: not a regular file (FIFO, device, socket or symlink); not opened: remove it or copy again"
        )
    if irregular:
        return report
    listed = _read_sums(bundle, report)
    _freshness(bundle, report, now)
    volumes = _check_volumes(bundle, report)

    lock = _read_lock(bundle, listed, report)
    members_lock = payload_lock(bundle, lock) if lock is not None else None  # a delta holds part of it
    hashed = hash_bundle(
        bundle, listed, volumes, members_lock, jobs=jobs, password=password, contents=contents, progress=progress
    )
    report.encrypted = hashed.encrypted
    report.members_checked, report.contents_checked = hashed.members_checked, hashed.contents_checked
    for name in sorted(hashed.files):
        report.files_checked += 1
        if hashed.files[name] != listed[name]:
            report.problems.append(_sums_problem(name, hashed.files[name], listed[name]))
    report.problems.extend(hashed.member_problems)
    if lock is not None:
        _check_sbom(bundle, lock, report)
    return report


def render(report: Report) -> str:
    """The human-readable verdict: every problem on its own line, then a summary line."""
    lines = [f"  - {p}" for p in report.problems]
    vols = f"{len(report.volumes)} volume{'s' if len(report.volumes) != 1 else ''}"
    summary = (
        f"{report.files_checked} files, {vols}, {report.members_checked} payload members,"
        f" {report.contents_checked} content checks"
    )
    if report.signed_by:
        summary += f", signed by {report.signed_by}"
    if report.ok:
        return f"{report.bundle}: OK ({summary})"
    head = f"{report.bundle}: {len(report.problems)} problem{'s' if len(report.problems) != 1 else ''}"
    return "\n".join([f"{head} ({summary}):", *lines])
