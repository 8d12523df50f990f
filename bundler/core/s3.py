"""Carrying a bundle directory through S3, or an S3-compatible store inside the closed network: where it
lies (``S3Location``), what a transfer did (``Transfer``), ``fetch`` and its dry run ``plan_fetch``.

``fetch`` downloads ``SHA256SUMS`` first, then each file into ``NAME.part`` (resuming with a Range
request after an interruption), hashing while it streams, and renames it into place only when the
sha256 matches ``SHA256SUMS`` (and the object's metadata, when present).  A corrupted object is
reported with its key and both checksums, and nothing of it is left behind.  ``SHA256SUMS`` is
written last, so a directory with it is a complete bundle; ``bosh-install verify`` checks the rest.
``plan_fetch`` reads ``SHA256SUMS`` and the objects' HEADs and makes fetch's own skip decision (same
size and sha256 in ``dest``) without writing anything (``FetchPlan``).
Its counterpart on the connected side is ``bundler.core.s3publish``.

Both take an S3 client (``bundler.core.awssession.AwsAccess.client("s3")``).  Imports the digest,
``SHA256SUMS`` reading and the errors of ``bundler.core``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bundler.core.digest import sha256_file
from bundler.core.errors import FetchError, InputError, IntegrityError
from bundler.core.progress import NULL_BAR, NullBar
from bundler.core.sizes import format_size
from bundler.core.sums import SUMS, read_sums

log = logging.getLogger(__name__)

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ends with "/"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key(self, name: str) -> str:
        return self.prefix + name


def parse_s3_url(url: str) -> S3Location:
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise InputError(f"{url!r}: expected s3://BUCKET/PREFIX")
    prefix = parts.path.strip("/")
    return S3Location(parts.netloc, prefix + "/" if prefix else "")


@dataclass
class Transfer:
    """What a publish or fetch did (for the CLI, tests and benchmarks)."""

    sent: list[str] = field(default_factory=list)  # files uploaded or downloaded (in part or whole)
    skipped: list[str] = field(default_factory=list)  # already there and verified
    parts_sent: int = 0
    parts_reused: int = 0
    bytes_moved: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "skipped": self.skipped,
            "parts_sent": self.parts_sent,
            "parts_reused": self.parts_reused,
            "bytes_moved": self.bytes_moved,
        }


def _error(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{err.get('Code')}: {err.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def store_error(exc: Exception, doing: str) -> Exception:
    """A failure of the store or the network as a resumable ``FetchError``; any other error as it is."""
    if not isinstance(exc, (InputError, IntegrityError, FetchError)) and type(exc).__module__.startswith(
        ("botocore", "boto3", "urllib3")
    ):
        return FetchError(f"{doing}: {_error(exc)}; run the same command again to resume")
    return exc


def _not_found(exc: BaseException) -> bool:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound")


def head_object(s3: Any, loc: S3Location, name: str) -> dict[str, Any] | None:
    """The object's HEAD response; None when it is not there."""
    try:
        return s3.head_object(Bucket=loc.bucket, Key=loc.key(name))
    except Exception as exc:
        if _not_found(exc):
            return None
        raise FetchError(f"{loc.url}{name}: {_error(exc)}") from None


def _remote_sums(s3: Any, loc: S3Location) -> tuple[bytes, dict[str, str]]:
    """The published ``SHA256SUMS``: its bytes (checked against its recorded sha256) and its entries."""
    try:
        obj = s3.get_object(Bucket=loc.bucket, Key=loc.key(SUMS))
        sums_bytes = obj["Body"].read()
    except Exception as exc:
        if _not_found(exc):
            raise FetchError(f"{loc.url}{SUMS}: not found; nothing (complete) was published there") from None
        raise FetchError(f"{loc.url}{SUMS}: {_error(exc)}") from None
    recorded = obj.get("Metadata", {}).get("sha256")
    if recorded and recorded != hashlib.sha256(sums_bytes).hexdigest():
        raise IntegrityError(f"{loc.url}{SUMS}: its content does not match its recorded sha256; publish again")
    return sums_bytes, read_sums(sums_bytes.decode("utf-8"), f"{loc.url}{SUMS}")


def fetch(s3: Any, loc: S3Location, dest: Path, *, bar: NullBar = NULL_BAR) -> Transfer:
    """Download the bundle at ``loc`` into ``dest``, verified; safe to run again after an interruption.

    ``bar`` counts every byte and file of the bundle: downloaded, resumed or already there."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    report = Transfer()
    sums_bytes, sums = _remote_sums(s3, loc)
    try:
        sizes = {name: _remote_size(s3, loc, name, sums[name]) for name in sorted(sums)}
        bar.add_total(sum(sizes.values()) + len(sums_bytes), files=len(sizes) + 1)
        for name, size in sizes.items():
            _fetch_file(s3, loc, name, (size, sums[name]), dest, report, bar)
    except Exception as exc:
        raise store_error(exc, f"fetching {loc.url}") from None
    tmp = dest / f".{SUMS}.part"
    tmp.write_bytes(sums_bytes)
    os.replace(tmp, dest / SUMS)
    bar.advance(len(sums_bytes))
    bar.file_done()
    return report


@dataclass
class FetchPlan:
    """What a fetch would do (``--dry-run``): nothing is downloaded, ``dest`` is not written."""

    download: dict[str, int] = field(default_factory=dict)  # name -> size of each file it would download
    partial: dict[str, int] = field(default_factory=dict)  # name -> bytes of its NAME.part already there
    skipped: list[str] = field(default_factory=list)  # complete in dest: same size and sha256

    def to_json(self) -> dict[str, Any]:
        return {"download": self.download, "partial": self.partial, "skipped": self.skipped}

    def lines(self, loc: S3Location, dest: Path) -> list[str]:
        """The plan for a reader: one line per file to download, then the summary line."""
        out = []
        for name, size in self.download.items():
            have = self.partial.get(name)
            resume = f", resuming at {format_size(have)} already in {name}.part" if have else ""
            out.append(f"would download {name} ({format_size(size)}){resume}")
        out.append(
            f"dry run: would fetch {len(self.download)} file(s), {format_size(sum(self.download.values()))}; "
            f"{len(self.skipped)} already complete in {dest}; {loc.url}"
        )
        return out


def plan_fetch(s3: Any, loc: S3Location, dest: Path) -> FetchPlan:
    """What ``fetch(s3, loc, dest)`` would download; reads the store and ``dest``, writes nothing."""
    dest = Path(dest)
    plan = FetchPlan()
    _, sums = _remote_sums(s3, loc)
    try:
        for name in sorted(sums):
            size = _remote_size(s3, loc, name, sums[name])
            if _complete(dest / name, size, sums[name]):
                plan.skipped.append(name)
                continue
            plan.download[name] = size
            part = dest / (name + ".part")
            if part.is_file() and 0 < part.stat().st_size <= size:
                plan.partial[name] = part.stat().st_size
    except Exception as exc:
        raise store_error(exc, f"planning a fetch of {loc.url}") from None
    return plan


def _remote_size(s3: Any, loc: S3Location, name: str, sha256: str) -> int:
    """The size of the object ``name``; an error when it is missing or records another sha256."""
    head = head_object(s3, loc, name)
    if head is None:
        raise FetchError(f"{loc.url}{name}: listed in {SUMS} but not in the bucket; publish again")
    recorded = head.get("Metadata", {}).get("sha256")
    if recorded and recorded != sha256:
        raise IntegrityError(
            f"{loc.url}{name}: the object records sha256 {recorded}, {SUMS} says {sha256}: the bucket mixes two "
            "bundles; publish again into an empty prefix"
        )
    return head["ContentLength"]


def _complete(target: Path, size: int, sha256: str) -> bool:
    """Whether ``target`` is already the file: fetch's skip decision (size, then sha256)."""
    return target.is_file() and target.stat().st_size == size and sha256_file(target) == sha256


def _fetch_file(
    s3: Any, loc: S3Location, name: str, want: tuple[int, str], dest: Path, report: Transfer, bar: NullBar
) -> None:
    """Download one object into ``dest/name``; ``want`` is its (size, sha256)."""
    target, (size, sha256) = dest / name, want
    if _complete(target, size, sha256):
        report.skipped.append(name)
        bar.advance(size)
        bar.file_done()
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    h = hashlib.sha256()
    offset = part.stat().st_size if part.is_file() else 0
    if offset > size:
        part.unlink()
        offset = 0
    if offset:
        with open(part, "rb") as src:
            while chunk := src.read(CHUNK):
                h.update(chunk)
        log.info("%s: resuming at byte %d of %d", name, offset, size)
        bar.advance(offset)
    if offset < size:
        args = {"Bucket": loc.bucket, "Key": loc.key(name)}
        if offset:
            args["Range"] = f"bytes={offset}-"
        response = s3.get_object(**args)
        body = response["Body"]
        if offset and not response.get("ContentRange"):  # the store ignored the Range: start over
            log.info("%s: the store sent the whole object instead of a range; starting over", name)
            part.unlink()
            h = hashlib.sha256()
        with open(part, "ab") as out:
            for chunk in body.iter_chunks(CHUNK):
                out.write(chunk)
                h.update(chunk)
                report.bytes_moved += len(chunk)
                bar.advance(len(chunk))
            out.flush()
            os.fsync(out.fileno())
    got = h.hexdigest()
    if got != sha256 or part.stat().st_size != size:
        part.unlink(missing_ok=True)
        raise IntegrityError(
            f"{loc.url}{name}: downloaded sha256 {got}, {SUMS} says {sha256}: the object is corrupted; "
            "publish the bundle again"
        )
    os.replace(part, target)
    report.sent.append(name)
    bar.file_done()


def summary(verb: str, loc: S3Location, report: Transfer) -> str:
    return (
        f"{verb} {len(report.sent)} file(s), {format_size(report.bytes_moved)} "
        f"({report.parts_sent} part(s) sent, {report.parts_reused} reused); "
        f"{len(report.skipped)} already in place; {loc.url}"
    )
