"""Publishing a bundle directory to S3, or an S3-compatible store, resumably and checksummed.

``publish`` uploads every file ``SHA256SUMS`` lists, then ``SHA256SUMS`` itself (its presence
means the publish completed; publishing another bundle to the same prefix withdraws the old one
first).  Each object carries its sha256 as metadata (``x-amz-meta-sha256``) and, part by part, as
``ChecksumSHA256`` so the store checks every part on arrival.  Files larger than one part go up as
multipart uploads; an interrupted publish resumes: the pending upload is found again, each part
already there is compared with the local bytes (its ETag is the part's MD5) and only missing or
different parts are sent.  Objects already complete with the right sha256 are skipped.

``plan_publish`` is its dry run: the same local checks (``SHA256SUMS`` well-formed, every file it
lists present; the files themselves are not hashed), then only reads of the store (HeadObject,
ListMultipartUploads, ListParts) to say what a publish would upload, skip, resume and withdraw
(``PublishPlan``).

Takes an S3 client (``bundler.core.awssession.AwsAccess.client("s3")``).  Imports
``bundler.core.s3`` (location, report, store errors), ``SHA256SUMS`` reading, sizes and the errors.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundler.core.errors import InputError, IntegrityError
from bundler.core.progress import NULL_BAR, NullBar
from bundler.core.s3 import S3Location, Transfer, head_object, store_error
from bundler.core.sizes import format_size
from bundler.core.sums import SUMS, read_sums

log = logging.getLogger(__name__)

PART_SIZE = 64 * 1024 * 1024  # S3 allows 10,000 parts: 640 GB per file
MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _local_bundle(bundle: Path, part_size: int) -> tuple[str, dict[str, str]]:
    """The bundle's ``SHA256SUMS`` text and entries, once the part size and every listed file are checked."""
    if part_size < MIN_PART_SIZE:
        raise InputError(f"part size {part_size} is below S3's minimum of {MIN_PART_SIZE} bytes")
    sums_path = Path(bundle) / SUMS
    try:
        sums_text = sums_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{sums_path}: missing; publish a bundle built by 'bosh-bundle build'") from None
    sums = read_sums(sums_text, str(sums_path))
    missing = [name for name in sums if not (Path(bundle) / name).is_file()]
    if missing:
        raise InputError(f"{bundle}: files listed in {SUMS} are missing: {', '.join(missing)}")
    return sums_text, sums


def _sums_head(s3: Any, loc: S3Location, sums_text: str) -> tuple[dict[str, Any] | None, bool]:
    """The HEAD of the ``SHA256SUMS`` published at ``loc`` and whether it is another bundle's (to withdraw)."""
    head = head_object(s3, loc, SUMS)
    digest = hashlib.sha256(sums_text.encode()).hexdigest()
    return head, bool(head and head.get("Metadata", {}).get("sha256") != digest)


def _in_place(head: dict[str, Any] | None, sha256: str, size: int) -> bool:
    """Whether the object is already the file: its recorded sha256 and its size."""
    return bool(head and head.get("Metadata", {}).get("sha256") == sha256 and head.get("ContentLength") == size)


def publish(
    s3: Any,
    bundle: Path,
    loc: S3Location,
    *,
    part_size: int = PART_SIZE,
    bar: NullBar = NULL_BAR,
) -> Transfer:
    """Upload the bundle directory ``bundle`` to ``loc``; safe to run again after an interruption.

    ``bar`` counts every byte and file of the bundle: sent, already there or reused."""
    sums_text, sums = _local_bundle(bundle, part_size)
    body = sums_text.encode()
    bar.add_total(sum((Path(bundle) / n).stat().st_size for n in sums) + len(body), files=len(sums) + 1)
    report = Transfer()
    try:
        head, withdraw = _sums_head(s3, loc, sums_text)
        if withdraw:
            # another bundle was published here: withdraw its SHA256SUMS first, so that nobody fetches
            # a mix of the two while this one goes up
            log.info("%s%s: replacing the bundle published there", loc.url, SUMS)
            s3.delete_object(Bucket=loc.bucket, Key=loc.key(SUMS))
            head = None
        for name in sorted(sums):
            _publish_file(s3, Path(bundle) / name, name, sums[name], loc, part_size, report, bar)
        if head:
            report.skipped.append(SUMS)
        else:
            s3.put_object(
                Bucket=loc.bucket,
                Key=loc.key(SUMS),
                Body=body,
                Metadata={"sha256": hashlib.sha256(body).hexdigest()},
                ChecksumSHA256=_b64(hashlib.sha256(body).digest()),
            )
            report.sent.append(SUMS)
            report.bytes_moved += len(body)
        bar.advance(len(body))
        bar.file_done()
    except Exception as exc:
        raise store_error(exc, f"publishing to {loc.url}") from None
    return report


@dataclass
class PublishPlan:
    """What a publish would do (``--dry-run``): nothing is sent, nothing in the store changes."""

    upload: dict[str, int] = field(default_factory=dict)  # name -> size of each file it would upload
    resume: dict[str, int] = field(default_factory=dict)  # name -> parts of a pending upload already there
    skipped: list[str] = field(default_factory=list)  # already in the store with the right sha256 and size
    withdraw: bool = False  # another bundle's SHA256SUMS is at the prefix: it would be deleted first

    def to_json(self) -> dict[str, Any]:
        return {"upload": self.upload, "resume": self.resume, "skipped": self.skipped, "withdraw": self.withdraw}

    def lines(self, loc: S3Location) -> list[str]:
        """The plan for a reader: the withdrawal, one line per file to upload, then the summary line."""
        out = [f"would withdraw {loc.url}{SUMS}: another bundle's, deleted first"] if self.withdraw else []
        for name, size in self.upload.items():
            parts = self.resume.get(name)
            resume = f", resuming an upload with {parts} part(s) already there" if parts else ""
            out.append(f"would upload {name} ({format_size(size)}){resume}")
        out.append(
            f"dry run: would publish {len(self.upload)} file(s), {format_size(sum(self.upload.values()))}; "
            f"{len(self.skipped)} already in place; {loc.url}"
        )
        return out


def plan_publish(s3: Any, bundle: Path, loc: S3Location, *, part_size: int = PART_SIZE) -> PublishPlan:
    """What ``publish`` would do, from the local checks and read-only calls to the store."""
    sums_text, sums = _local_bundle(bundle, part_size)
    plan = PublishPlan()
    try:
        head, plan.withdraw = _sums_head(s3, loc, sums_text)
        for name in sorted(sums):
            size = (Path(bundle) / name).stat().st_size
            if _in_place(head_object(s3, loc, name), sums[name], size):
                plan.skipped.append(name)
                continue
            plan.upload[name] = size
            uploads = _uploads(s3, loc, loc.key(name)) if size > part_size else []
            if uploads:
                plan.resume[name] = len(_parts(s3, loc, loc.key(name), uploads[-1]["UploadId"]))
        if head and not plan.withdraw:
            plan.skipped.append(SUMS)
        else:
            plan.upload[SUMS] = len(sums_text.encode())
    except Exception as exc:
        raise store_error(exc, f"planning a publish to {loc.url}") from None
    return plan


def _publish_file(
    s3: Any,
    path: Path,
    name: str,
    sha256: str,
    loc: S3Location,
    part_size: int,
    report: Transfer,
    bar: NullBar,
) -> None:
    size = path.stat().st_size
    if _in_place(head_object(s3, loc, name), sha256, size):
        log.info("%s: already in %s", name, loc.url)
        report.skipped.append(name)
        bar.advance(size)
        bar.file_done()
        return
    if size <= part_size:
        _put_whole(s3, path, name, sha256, loc, report)
        bar.advance(size)
        bar.file_done()
        return
    key = loc.key(name)
    upload_id, existing = _pending_upload(s3, loc, key)
    if upload_id is None:
        upload_id = s3.create_multipart_upload(
            Bucket=loc.bucket, Key=key, Metadata={"sha256": sha256}, ChecksumAlgorithm="SHA256"
        )["UploadId"]
    upload = _Upload(s3, loc, name, upload_id, existing, report, bar)
    parts = upload.send_parts(path, sha256, part_size)
    s3.complete_multipart_upload(Bucket=loc.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    head = head_object(s3, loc, name) or {}
    if head.get("Metadata", {}).get("sha256") != sha256:
        # a resumed upload begun for other bytes under the same name: send this file afresh
        log.warning("%s: the resumed upload carried another checksum; uploading it again", name)
        s3.delete_object(Bucket=loc.bucket, Key=key)
        _publish_file(s3, path, name, sha256, loc, part_size, report, bar)
        return
    report.sent.append(name)
    bar.file_done()


def _damaged(path: Path) -> IntegrityError:
    return IntegrityError(f"{path}: does not match {SUMS}; the local bundle is damaged, build or copy it again")


def _put_whole(s3: Any, path: Path, name: str, sha256: str, loc: S3Location, report: Transfer) -> None:
    """A file of one part: one PUT, its bytes checked against SHA256SUMS first."""
    body = path.read_bytes()
    digest = hashlib.sha256(body)
    if digest.hexdigest() != sha256:
        raise _damaged(path)
    s3.put_object(
        Bucket=loc.bucket,
        Key=loc.key(name),
        Body=body,
        Metadata={"sha256": sha256},
        ChecksumSHA256=_b64(digest.digest()),
    )
    report.sent.append(name)
    report.parts_sent += 1
    report.bytes_moved += len(body)


@dataclass
class _Upload:
    """One multipart upload: the parts S3 already has (``existing``, by number) are sent again only if different."""

    s3: Any
    loc: S3Location
    name: str
    upload_id: str
    existing: dict[int, dict[str, Any]]
    report: Transfer
    bar: NullBar  # advanced by every part, sent or reused

    def send_parts(self, path: Path, sha256: str, part_size: int) -> list[dict[str, Any]]:
        """Every part of ``path``, for CompleteMultipartUpload; aborts if the file does not match ``sha256``."""
        whole = hashlib.sha256()
        parts = []
        with open(path, "rb") as src:
            number = 0
            while data := src.read(part_size):
                number += 1
                whole.update(data)
                checksum = _b64(hashlib.sha256(data).digest())
                parts.append(
                    {"PartNumber": number, "ETag": self.send(number, data, checksum), "ChecksumSHA256": checksum}
                )
        if whole.hexdigest() != sha256:
            self.s3.abort_multipart_upload(Bucket=self.loc.bucket, Key=self.loc.key(self.name), UploadId=self.upload_id)
            raise _damaged(path)
        return parts

    def send(self, number: int, data: bytes, checksum: str) -> str:
        """Part ``number``'s ETag: the one S3 has when its MD5 and size match, else the new upload's."""
        etag = f'"{hashlib.md5(data).hexdigest()}"'
        have = self.existing.get(number)
        if have and have.get("Size") == len(data) and have.get("ETag") == etag:
            self.report.parts_reused += 1
            self.bar.advance(len(data))
            return etag
        etag = self.s3.upload_part(
            Bucket=self.loc.bucket,
            Key=self.loc.key(self.name),
            UploadId=self.upload_id,
            PartNumber=number,
            Body=data,
            ChecksumSHA256=checksum,
        )["ETag"]
        self.report.parts_sent += 1
        self.report.bytes_moved += len(data)
        self.bar.advance(len(data))
        return etag


def _uploads(s3: Any, loc: S3Location, key: str) -> list[dict[str, Any]]:
    """The unfinished multipart uploads of ``key``, oldest first."""
    uploads = [
        u
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=loc.bucket, Prefix=key)
        for u in page.get("Uploads", [])
        if u["Key"] == key
    ]
    return sorted(uploads, key=lambda u: u["Initiated"])


def _parts(s3: Any, loc: S3Location, key: str, upload_id: str) -> dict[int, dict[str, Any]]:
    """The parts the store already has of one multipart upload, by number."""
    return {
        p["PartNumber"]: p
        for page in s3.get_paginator("list_parts").paginate(Bucket=loc.bucket, Key=key, UploadId=upload_id)
        for p in page.get("Parts", [])
    }


def _pending_upload(s3: Any, loc: S3Location, key: str) -> tuple[str | None, dict[int, dict[str, Any]]]:
    """The newest unfinished multipart upload of ``key`` and its parts; older ones are aborted."""
    uploads = _uploads(s3, loc, key)
    if not uploads:
        return None, {}
    for stale in uploads[:-1]:
        s3.abort_multipart_upload(Bucket=loc.bucket, Key=key, UploadId=stale["UploadId"])
    upload_id = uploads[-1]["UploadId"]
    parts = _parts(s3, loc, key, upload_id)
    log.info("%s: resuming upload with %d part(s) already sent", key, len(parts))
    return upload_id, parts
