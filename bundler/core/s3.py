"""Carrying a bundle directory through S3, or an S3-compatible store inside the closed network.

``publish`` uploads every file ``SHA256SUMS`` lists, then ``SHA256SUMS`` itself (its presence
means the publish completed; publishing another bundle to the same prefix withdraws the old one
first).  Each object carries its sha256 as metadata (``x-amz-meta-sha256``)
and, part by part, as ``ChecksumSHA256`` so the store checks every part on arrival.  Files larger
than one part go up as multipart uploads; an interrupted publish resumes: the pending upload is
found again, each part already there is compared with the local bytes (its ETag is the part's MD5)
and only missing or different parts are sent.  Objects already complete with the right sha256 are
skipped.

``fetch`` downloads ``SHA256SUMS`` first, then each file into ``NAME.part`` (resuming with a Range
request after an interruption), hashing while it streams, and renames it into place only when the
sha256 matches ``SHA256SUMS`` (and the object's metadata, when present).  A corrupted object is
reported with its key and both checksums, and nothing of it is left behind.  ``SHA256SUMS`` is
written last, so a directory with it is a complete bundle; ``bosh-install verify`` checks the rest.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bundler.core.errors import FetchError, InputError, IntegrityError
from bundler.core.lock import is_safe_member_path

log = logging.getLogger(__name__)

SUMS = "SHA256SUMS"
PART_SIZE = 64 * 1024 * 1024  # S3 allows 10,000 parts: 640 GB per file
MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
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


def parse_sums(text: str, source: str) -> dict[str, str]:
    """``{name: sha256}`` from coreutils ``sha256sum`` output; names must stay inside the bundle."""
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        digest, _, name = line.partition(" ")
        name = name[1:] if name[:1] in (" ", "*") else name
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or not name:
            raise InputError(f"{source}:{n}: not a 'SHA256  NAME' line")
        if not is_safe_member_path(name) or name == SUMS:
            raise InputError(f"{source}:{n}: {name!r} is not a file name inside the bundle")
        out[name] = digest
    if not out:
        raise InputError(f"{source}: lists no files")
    return out


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


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


Progress = Callable[[str, int], None]  # (file name, bytes just moved)


def _error(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{err.get('Code')}: {err.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def _not_found(exc: BaseException) -> bool:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound")


def _head(s3: Any, loc: S3Location, name: str) -> dict[str, Any] | None:
    try:
        return s3.head_object(Bucket=loc.bucket, Key=loc.key(name))
    except Exception as exc:
        if _not_found(exc):
            return None
        raise FetchError(f"{loc.url}{name}: {_error(exc)}") from None


def publish(
    s3: Any,
    bundle: Path,
    loc: S3Location,
    *,
    part_size: int = PART_SIZE,
    progress: Progress | None = None,
) -> Transfer:
    """Upload the bundle directory ``bundle`` to ``loc``; safe to run again after an interruption."""
    if part_size < MIN_PART_SIZE:
        raise InputError(f"part size {part_size} is below S3's minimum of {MIN_PART_SIZE} bytes")
    sums_path = Path(bundle) / SUMS
    try:
        sums_text = sums_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{sums_path}: missing; publish a bundle built by 'bosh-bundle build'") from None
    sums = parse_sums(sums_text, str(sums_path))
    missing = [name for name in sums if not (Path(bundle) / name).is_file()]
    if missing:
        raise InputError(f"{bundle}: files listed in {SUMS} are missing: {', '.join(missing)}")
    report = Transfer()
    sums_digest = hashlib.sha256(sums_text.encode()).hexdigest()
    try:
        head = _head(s3, loc, SUMS)
        if head and head.get("Metadata", {}).get("sha256") != sums_digest:
            # another bundle was published here: withdraw its SHA256SUMS first, so that nobody fetches
            # a mix of the two while this one goes up
            log.info("%s%s: replacing the bundle published there", loc.url, SUMS)
            s3.delete_object(Bucket=loc.bucket, Key=loc.key(SUMS))
            head = None
        for name in sorted(sums):
            _publish_file(s3, Path(bundle) / name, name, sums[name], loc, part_size, report, progress)
        if head:
            report.skipped.append(SUMS)
        else:
            body = sums_text.encode()
            s3.put_object(
                Bucket=loc.bucket,
                Key=loc.key(SUMS),
                Body=body,
                Metadata={"sha256": sums_digest},
                ChecksumSHA256=_b64(hashlib.sha256(body).digest()),
            )
            report.sent.append(SUMS)
            report.bytes_moved += len(body)
    except (InputError, IntegrityError, FetchError):
        raise
    except Exception as exc:
        if type(exc).__module__.startswith(("botocore", "boto3", "urllib3")):
            raise FetchError(f"publishing to {loc.url}: {_error(exc)}; run the same command again to resume") from None
        raise
    return report


def _publish_file(
    s3: Any,
    path: Path,
    name: str,
    sha256: str,
    loc: S3Location,
    part_size: int,
    report: Transfer,
    progress: Progress | None,
) -> None:
    size = path.stat().st_size
    head = _head(s3, loc, name)
    if head and head.get("Metadata", {}).get("sha256") == sha256 and head.get("ContentLength") == size:
        log.info("%s: already in %s", name, loc.url)
        report.skipped.append(name)
        return
    key = loc.key(name)
    if size <= part_size:
        body = path.read_bytes()
        if hashlib.sha256(body).hexdigest() != sha256:
            raise IntegrityError(f"{path}: does not match {SUMS}; the local bundle is damaged, build or copy it again")
        s3.put_object(
            Bucket=loc.bucket,
            Key=key,
            Body=body,
            Metadata={"sha256": sha256},
            ChecksumSHA256=_b64(hashlib.sha256(body).digest()),
        )
        report.sent.append(name)
        report.parts_sent += 1
        report.bytes_moved += size
        if progress:
            progress(name, size)
        return
    upload_id, existing = _pending_upload(s3, loc, key)
    if upload_id is None:
        upload_id = s3.create_multipart_upload(
            Bucket=loc.bucket, Key=key, Metadata={"sha256": sha256}, ChecksumAlgorithm="SHA256"
        )["UploadId"]
    whole = hashlib.sha256()
    parts = []
    with open(path, "rb") as src:
        number = 0
        while True:
            data = src.read(part_size)
            if not data:
                break
            number += 1
            whole.update(data)
            checksum = _b64(hashlib.sha256(data).digest())
            etag = f'"{hashlib.md5(data).hexdigest()}"'
            have = existing.get(number)
            if have and have.get("Size") == len(data) and have.get("ETag") == etag:
                report.parts_reused += 1
            else:
                etag = s3.upload_part(
                    Bucket=loc.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=data,
                    ChecksumSHA256=checksum,
                )["ETag"]
                report.parts_sent += 1
                report.bytes_moved += len(data)
                if progress:
                    progress(name, len(data))
            parts.append({"PartNumber": number, "ETag": etag, "ChecksumSHA256": checksum})
    if whole.hexdigest() != sha256:
        s3.abort_multipart_upload(Bucket=loc.bucket, Key=key, UploadId=upload_id)
        raise IntegrityError(f"{path}: does not match {SUMS}; the local bundle is damaged, build or copy it again")
    s3.complete_multipart_upload(Bucket=loc.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    head = _head(s3, loc, name) or {}
    if head.get("Metadata", {}).get("sha256") != sha256:
        # a resumed upload begun for other bytes under the same name: send this file afresh
        log.warning("%s: the resumed upload carried another checksum; uploading it again", name)
        s3.delete_object(Bucket=loc.bucket, Key=key)
        _publish_file(s3, path, name, sha256, loc, part_size, report, progress)
        return
    report.sent.append(name)


def _pending_upload(s3: Any, loc: S3Location, key: str) -> tuple[str | None, dict[int, dict[str, Any]]]:
    """The newest unfinished multipart upload of ``key`` and its parts; older ones are aborted."""
    uploads = [
        u
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=loc.bucket, Prefix=key)
        for u in page.get("Uploads", [])
        if u["Key"] == key
    ]
    if not uploads:
        return None, {}
    uploads.sort(key=lambda u: u["Initiated"])
    for stale in uploads[:-1]:
        s3.abort_multipart_upload(Bucket=loc.bucket, Key=key, UploadId=stale["UploadId"])
    upload_id = uploads[-1]["UploadId"]
    parts = {
        p["PartNumber"]: p
        for page in s3.get_paginator("list_parts").paginate(Bucket=loc.bucket, Key=key, UploadId=upload_id)
        for p in page.get("Parts", [])
    }
    log.info("%s: resuming upload with %d part(s) already sent", key, len(parts))
    return upload_id, parts


def fetch(s3: Any, loc: S3Location, dest: Path, *, progress: Progress | None = None) -> Transfer:
    """Download the bundle at ``loc`` into ``dest``, verified; safe to run again after an interruption."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    report = Transfer()
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
    sums = parse_sums(sums_bytes.decode("utf-8"), f"{loc.url}{SUMS}")
    try:
        for name in sorted(sums):
            _fetch_file(s3, loc, name, sums[name], dest, report, progress)
    except (InputError, IntegrityError, FetchError):
        raise
    except Exception as exc:
        if type(exc).__module__.startswith(("botocore", "boto3", "urllib3")):
            raise FetchError(f"fetching {loc.url}: {_error(exc)}; run the same command again to resume") from None
        raise
    tmp = dest / f".{SUMS}.part"
    tmp.write_bytes(sums_bytes)
    os.replace(tmp, dest / SUMS)
    return report


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as src:
        while chunk := src.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _fetch_file(
    s3: Any, loc: S3Location, name: str, sha256: str, dest: Path, report: Transfer, progress: Progress | None
) -> None:
    target = dest / name
    head = _head(s3, loc, name)
    if head is None:
        raise FetchError(f"{loc.url}{name}: listed in {SUMS} but not in the bucket; publish again")
    size = head["ContentLength"]
    recorded = head.get("Metadata", {}).get("sha256")
    if recorded and recorded != sha256:
        raise IntegrityError(
            f"{loc.url}{name}: the object records sha256 {recorded}, {SUMS} says {sha256}: the bucket mixes two "
            "bundles; publish again into an empty prefix"
        )
    if target.is_file() and target.stat().st_size == size and _sha256_of(target) == sha256:
        report.skipped.append(name)
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
                if progress:
                    progress(name, len(chunk))
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


def s3_client(
    *,
    endpoint_url: str | None = None,
    profile: str | None = None,
    region: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> Any:
    """An S3 client; path-style addressing for custom endpoints (what S3-compatible stores expect)."""
    import boto3
    import botocore.config
    import botocore.exceptions

    try:
        if access_key_id:
            session = boto3.session.Session(aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key)
        else:
            session = boto3.session.Session(profile_name=profile) if profile else boto3.session.Session()
    except botocore.exceptions.ProfileNotFound:
        raise InputError(f"AWS profile {profile!r} is not in the AWS config files") from None
    config = botocore.config.Config(
        retries={"max_attempts": 5, "mode": "standard"},
        s3={"addressing_style": "path"} if endpoint_url else {},
    )
    return session.client(
        "s3", endpoint_url=endpoint_url, region_name=region or session.region_name or "us-east-1", config=config
    )


def add_s3_options(parser: Any) -> None:
    parser.add_argument("--endpoint-url", default=None, help="an S3-compatible endpoint (default: AWS S3)")
    parser.add_argument("--profile", default=None, help="AWS profile for credentials (default: the usual chain)")
    parser.add_argument("--region", default=None, help="region of the bucket (default: the profile's, or us-east-1)")
    parser.add_argument("--json", action="store_true", help="machine-readable summary")


def summary(verb: str, loc: S3Location, report: Transfer) -> str:
    return (
        f"{verb} {len(report.sent)} file(s), {report.bytes_moved / 1e6:.1f} MB "
        f"({report.parts_sent} part(s) sent, {report.parts_reused} reused); "
        f"{len(report.skipped)} already in place; {loc.url}"
    )
