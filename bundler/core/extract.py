"""Safe extraction of a bundle's payload: checked against the lock before a byte is written.

``extract_payload`` first reads the payload's header and refuses the whole archive if any member
is not a plain relative path (absolute, ``..``, backslashes), is a symlink, hard link, device or
anything but a regular file or directory, is not in the lock, appears twice, or is larger (or
smaller) than the lock says; every lock artifact must be present.  Only then does it write, into a
staging directory beside the destination, each file created with ``O_EXCL | O_NOFOLLOW``, at most
the lock's size, hashed as it is written and compared with the lock.  On any error the staging
directory is removed; on success it is renamed into place, so the destination is either absent or
complete.  (py7zr alone refuses ``../`` members only after writing the earlier ones.)

Imports only ``bundler.core`` (the offline side runs it).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bundler.core.archive import Member, Payload
from bundler.core.errors import BundleError, InputError, IntegrityError
from bundler.core.lock import Artifact, Lock, is_safe_member_path
from bundler.core.volumes import find_volumes

log = logging.getLogger(__name__)


def describe(artifact: Artifact) -> str:
    return f"{artifact.kind} {artifact.name} {artifact.version}"


def member_problems(members: list[Member], lock: Lock) -> list[str]:
    """Everything that makes the payload's member list differ from the lock, or unsafe to extract."""
    problems = []
    wanted = {a.path: a for a in lock.artifacts}
    seen: set[str] = set()
    for m in members:
        if not is_safe_member_path(m.name):
            problems.append(f"payload member {m.name!r} has an unsafe path (absolute, '..' or empty part)")
            continue
        if m.type == "dir" and m.size == 0:
            continue
        if m.type == "dir":
            problems.append(f"payload member {m.name} is a directory carrying {m.size} bytes; refusing it")
            continue
        if m.type != "file":
            problems.append(f"payload member {m.name} is a {m.type}; a bundle holds only regular files")
            continue
        if m.name in seen:
            problems.append(f"payload member {m.name} appears twice")
            continue
        seen.add(m.name)
        artifact = wanted.get(m.name)
        if artifact is None:
            problems.append(f"payload member {m.name} is not in bundle.lock")
        elif m.size > artifact.size:
            problems.append(
                f"{describe(artifact)}: payload member {m.name} has {m.size} bytes, more than the"
                f" {artifact.size} bytes bundle.lock says"
            )
        elif m.size < artifact.size:
            problems.append(
                f"{describe(artifact)}: payload member {m.name} has {m.size} bytes, bundle.lock says {artifact.size}"
            )
    for path, artifact in sorted(wanted.items()):
        if path not in seen:
            problems.append(f"{describe(artifact)}: {path} is missing from the payload")
    return problems


class _Writer:
    """One member being written into the staging directory: bounded, hashed, never through a link."""

    def __init__(self, root: Path, artifact: Artifact) -> None:
        self.artifact = artifact
        self.path = root.joinpath(*artifact.path.split("/"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if root.resolve() not in self.path.parent.resolve().parents and self.path.parent.resolve() != root.resolve():
            raise IntegrityError(f"payload member {artifact.path} would be written outside the staging directory")
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, block: bytes) -> None:
        if self.size + len(block) > self.artifact.size:
            raise IntegrityError(
                f"{describe(self.artifact)}: payload member {self.artifact.path} holds more than the"
                f" {self.artifact.size} bytes bundle.lock says"
            )
        view = memoryview(block)
        while view:
            view = view[os.write(self.fd, view) :]
        self.hash.update(block)
        self.size += len(block)

    def finish(self) -> None:
        os.close(self.fd)
        self.fd = -1
        got = self.hash.hexdigest()
        if self.size != self.artifact.size or got != self.artifact.sha256:
            raise IntegrityError(
                f"{describe(self.artifact)}: payload member {self.artifact.path} has {self.size} bytes with"
                f" sha256 {got}; bundle.lock says {self.artifact.size} bytes with sha256 {self.artifact.sha256}"
            )

    def abort(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def write_members(payload: Payload, artifacts: Collection[Artifact], root: Path, jobs: int | None = None) -> None:
    """Write the given artifacts' members under ``root`` (which must exist), verifying each.

    The caller has checked the member list (``member_problems``).  Unencrypted COPY payloads are read
    straight from the volumes, several members at once; others are decoded by py7zr in one pass.
    """
    by_name = {a.path: a for a in artifacts}
    members = {m.name: m for m in payload.members if m.name in by_name and m.type == "file"}
    if payload.direct:

        def one(member: Member) -> None:
            writer = _Writer(root, by_name[member.name])
            try:
                for block in payload.iter_member(member):
                    writer.write(block)
                writer.finish()
            finally:
                writer.abort()

        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1, thread_name_prefix="extract") as pool:
            for future in [pool.submit(one, m) for m in members.values()]:
                future.result()
    else:
        writers: dict[str, _Writer] = {}

        def on_data(name: str, block: bytes) -> None:
            writer = writers.get(name)
            if writer is None:
                if name not in by_name:
                    raise IntegrityError(f"payload member {name} was not asked for")
                writer = writers[name] = _Writer(root, by_name[name])
            writer.write(block)

        try:
            payload.stream(on_data, names=sorted(members))
            for name in sorted(members):
                writer = writers.get(name) or writers.setdefault(name, _Writer(root, by_name[name]))  # empty file
                writer.finish()
        finally:
            for writer in writers.values():
                writer.abort()
    for name in sorted(members):
        if not root.joinpath(*name.split("/")).is_file():
            raise IntegrityError(f"{describe(by_name[name])}: {name} was not extracted")


def extract_payload(
    bundle_dir: Path, dest: Path, lock: Lock, password: str | None = None, jobs: int | None = None
) -> Path:
    """Extract the payload of ``bundle_dir`` to ``dest`` (which must not exist yet); returns ``dest``.

    Raises ``IntegrityError`` naming every problem found in the member list before writing anything;
    a failure while writing removes the staging directory and leaves ``dest`` absent.
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InputError(f"{dest}: already exists and is not empty; extraction needs a new directory")
    with Payload(find_volumes(Path(bundle_dir)), password=password) as payload:
        problems = member_problems(payload.members, lock)
        if problems:
            raise IntegrityError(f"{bundle_dir}: refusing to extract the payload: " + "; ".join(problems))
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".staging", dir=dest.parent))
        try:
            write_members(payload, lock.artifacts, staging, jobs)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, (BundleError, KeyboardInterrupt)):
                raise
            if isinstance(exc, OSError):
                raise IntegrityError(f"extracting into {staging}: {exc}") from None
            raise
    if dest.exists():
        dest.rmdir()
    os.rename(staging, dest)
    log.info("extracted %d artifacts into %s", len(lock.artifacts), dest)
    return dest
