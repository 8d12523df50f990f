"""Publishing and fetching a multi-volume bundle through moto's S3 server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from bundler import cli as bundle_cli
from bundler.core.errors import FetchError, InputError, IntegrityError
from bundler.core.progress import NullBar
from bundler.core.s3 import S3Location, fetch, parse_s3_url
from bundler.core.s3publish import MIN_PART_SIZE, publish
from bundler.core.sizes import format_size
from installer import cli as install_cli
from tests.support.motoserver import MotoServer

BUCKET = "bundles"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with MotoServer(tmp_path_factory.mktemp("aws")) as srv:
        srv.reset()
        srv.client("s3").create_bucket(Bucket=BUCKET)
        yield srv


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A bundle directory as 'bosh-bundle build' leaves it: volumes, lock, bootstrap, sums."""
    root = tmp_path_factory.mktemp("bundle")
    files = {
        "payload.7z.001": os.urandom(12 * MiB),
        "payload.7z.002": os.urandom(12 * MiB),
        "payload.7z.003": os.urandom(3 * MiB + 17),
        "bundle.lock": json.dumps({"format": 1, "artifacts": []}).encode(),
        "install.sh": b"#!/bin/sh\necho install\n",
        "bootstrap.tar.gz": os.urandom(4096),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    sums = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(files.items()))
    (root / "SHA256SUMS").write_text(sums)
    return root


def same_tree(a, b) -> bool:
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all(
        (a / n).read_bytes() == (b / n).read_bytes() for n in names
    )


def test_publish_and_fetch_a_multi_volume_bundle(aws, bundle, tmp_path, capsys):
    url = f"s3://{BUCKET}/round/trip"
    assert bundle_cli.main(["publish", str(bundle), url, "--endpoint-url", aws.endpoint_url, "--part-size", "5"]) == 0
    assert "published 7 file(s)" in capsys.readouterr().out
    s3 = aws.client("s3")
    head = s3.head_object(Bucket=BUCKET, Key="round/trip/payload.7z.001")
    assert head["Metadata"]["sha256"] == hashlib.sha256((bundle / "payload.7z.001").read_bytes()).hexdigest()
    assert head["ETag"].endswith('-3"')  # three 5 MiB parts
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    dest = tmp_path / "got"
    assert install_cli.main(["fetch", url, str(dest), "--endpoint-url", aws.endpoint_url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["sent"]) == 6 and report["skipped"] == []
    assert same_tree(bundle, dest)
    # both again: nothing moves
    assert bundle_cli.main(["publish", str(bundle), url, "--endpoint-url", aws.endpoint_url, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["sent"] == [] and len(again["skipped"]) == 7
    assert install_cli.main(["fetch", url, str(dest), "--endpoint-url", aws.endpoint_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bytes_moved"] == 0


class Interrupt(Exception):
    pass


class CountingBar(NullBar):
    """A progress bar that counts what a transfer reports, and interrupts it at its ``cut``-th step
    once ``after_files`` files are done (files go in name order: the four small ones and .001 first)."""

    def __init__(self, after_files: int = 0, cut: int = 0) -> None:
        self.total = self.files_total = self.advanced = self.files = self.steps = 0
        self.after_files, self.cut = after_files, cut

    def add_total(self, nbytes: int, files: int = 0) -> None:
        self.total += nbytes
        self.files_total += files

    def file_done(self, n: int = 1) -> None:
        self.files += n

    def advance(self, nbytes: int) -> None:
        self.advanced += nbytes
        if self.cut and self.files >= self.after_files:
            self.steps += 1
            if self.steps == self.cut:
                raise Interrupt()


def bundle_bytes(bundle) -> int:
    return sum(p.stat().st_size for p in bundle.iterdir())


def test_interrupted_upload_resumes_with_the_parts_already_sent(aws, bundle, tmp_path):
    s3, loc = aws.client("s3"), parse_s3_url(f"s3://{BUCKET}/resume")
    with pytest.raises(Interrupt):  # at the second part of payload.7z.002
        publish(s3, bundle, loc, part_size=MIN_PART_SIZE, bar=CountingBar(after_files=4, cut=2))
    pending = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="resume/")["Uploads"]
    assert [u["Key"] for u in pending] == ["resume/payload.7z.002"]
    with pytest.raises(FetchError, match="nothing \\(complete\\) was published"):  # SHA256SUMS goes last
        fetch(s3, loc, tmp_path / "early")
    bar = CountingBar()
    report = publish(s3, bundle, loc, part_size=MIN_PART_SIZE, bar=bar)
    assert report.parts_reused == 2
    # the bar counts the whole bundle, files in place and parts reused included: n of N files
    assert bar.advanced == bar.total == bundle_bytes(bundle) and bar.files == bar.files_total == 7
    # files go in name order: the small ones and .001 were complete before the cut
    assert report.skipped == ["bootstrap.tar.gz", "bundle.lock", "install.sh", "payload.7z.001"]
    assert report.parts_sent == 2  # the last part of .002, then .003 (one part)
    assert not s3.list_multipart_uploads(Bucket=BUCKET, Prefix="resume/").get("Uploads")
    dest = tmp_path / "got"
    fetch(s3, loc, dest)
    assert same_tree(bundle, dest)


def test_interrupted_download_resumes_from_the_part_file(aws, bundle, tmp_path):
    s3, loc = aws.client("s3"), parse_s3_url(f"s3://{BUCKET}/download")
    publish(s3, bundle, loc, part_size=MIN_PART_SIZE)
    dest = tmp_path / "got"
    with pytest.raises(Interrupt):  # at the first chunk of payload.7z.002
        fetch(s3, loc, dest, bar=CountingBar(after_files=4, cut=1))
    partial = dest / "payload.7z.002.part"
    assert partial.is_file() and 0 < partial.stat().st_size < 12 * MiB
    assert not (dest / "SHA256SUMS").exists()
    done = partial.stat().st_size
    bar = CountingBar()
    report = fetch(s3, loc, dest, bar=bar)
    assert report.skipped == ["bootstrap.tar.gz", "bundle.lock", "install.sh", "payload.7z.001"]
    assert report.bytes_moved == (12 * MiB - done) + (3 * MiB + 17)  # the rest of .002, then .003
    assert bar.advanced == bar.total == bundle_bytes(bundle) and bar.files == bar.files_total == 7
    assert same_tree(bundle, dest)


def test_corrupted_object_is_detected_and_nothing_is_kept(aws, bundle, tmp_path):
    s3, loc = aws.client("s3"), S3Location(BUCKET, "corrupt/")
    publish(s3, bundle, loc, part_size=MIN_PART_SIZE)
    key = "corrupt/payload.7z.003"
    head = s3.head_object(Bucket=BUCKET, Key=key)
    data = bytearray((bundle / "payload.7z.003").read_bytes())
    data[1000] ^= 0xFF  # one flipped bit of rot, same size, same recorded metadata
    s3.put_object(Bucket=BUCKET, Key=key, Body=bytes(data), Metadata=head["Metadata"])
    dest = tmp_path / "got"
    with pytest.raises(IntegrityError) as err:
        fetch(s3, loc, dest)
    expected = hashlib.sha256((bundle / "payload.7z.003").read_bytes()).hexdigest()
    assert f"s3://{BUCKET}/corrupt/payload.7z.003" in str(err.value)
    assert expected in str(err.value) and hashlib.sha256(bytes(data)).hexdigest() in str(err.value)
    assert not (dest / "payload.7z.003").exists() and not (dest / "payload.7z.003.part").exists()
    assert not (dest / "SHA256SUMS").exists()


def test_cli_reports_corruption_in_one_line_with_exit_1(aws, bundle, tmp_path, capsys):
    url = f"s3://{BUCKET}/corrupt"
    code = install_cli.main(["fetch", url, str(tmp_path / "cli"), "--endpoint-url", aws.endpoint_url])
    err = capsys.readouterr().err
    assert code == 1 and "the object is corrupted" in err and "Traceback" not in err


def test_damaged_local_bundle_is_not_published(aws, bundle, tmp_path):
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for p in bundle.iterdir():
        (damaged / p.name).write_bytes(p.read_bytes())
    with open(damaged / "payload.7z.001", "r+b") as f:
        f.seek(7 * MiB)
        f.write(b"\0\1\2")
    s3 = aws.client("s3")
    with pytest.raises(IntegrityError, match="payload.7z.001: does not match SHA256SUMS"):
        publish(s3, damaged, S3Location(BUCKET, "damaged/"), part_size=MIN_PART_SIZE)
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="damaged/payload.7z.001")


def test_fetch_takes_credentials_and_endpoint_from_the_site_file(aws, bundle, tmp_path, capsys):
    from tests.support.awssite import SITE_KEY_ID, SITE_SECRET, write_site

    publish(aws.client("s3"), bundle, S3Location(BUCKET, "site/"), part_size=MIN_PART_SIZE)
    site = write_site(tmp_path / "site.yml", aws.endpoint_url, private_key=tmp_path / "bosh.pem")
    code = install_cli.main(["-v", "fetch", f"s3://{BUCKET}/site", str(tmp_path / "got"), "--site", str(site)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert same_tree(bundle, tmp_path / "got")
    assert SITE_SECRET not in out + err and SITE_KEY_ID not in out + err


def test_publishing_another_bundle_withdraws_the_old_sums_first(aws, bundle, tmp_path):
    s3, loc = aws.client("s3"), S3Location(BUCKET, "replace/")
    publish(s3, bundle, loc, part_size=MIN_PART_SIZE)
    newer = tmp_path / "newer"
    newer.mkdir()
    data = os.urandom(6 * MiB)
    (newer / "payload.7z.001").write_bytes(data)
    (newer / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  payload.7z.001\n")
    with pytest.raises(Interrupt):  # at the first part sent
        publish(s3, newer, loc, part_size=MIN_PART_SIZE, bar=CountingBar(cut=1))
    with pytest.raises(FetchError, match="nothing \\(complete\\) was published"):
        fetch(s3, loc, tmp_path / "mixed")  # neither the old bundle nor a mix of both
    publish(s3, newer, loc, part_size=MIN_PART_SIZE)
    fetch(s3, loc, tmp_path / "got")
    assert same_tree(newer, tmp_path / "got")


def test_sums_naming_a_path_outside_the_directory_are_refused(aws, tmp_path):
    s3 = aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key="evil/SHA256SUMS", Body=f"{'0' * 64}  ../../etc/cron.d/x\n".encode())
    with pytest.raises(InputError, match="is not a file name inside the bundle"):
        fetch(s3, S3Location(BUCKET, "evil/"), tmp_path / "got")
    assert not (tmp_path / "etc").exists()


def snapshot(s3, bucket: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Every object (key, ETag) and every pending multipart upload (key, id) of ``bucket``."""
    objects = [
        (o["Key"], o["ETag"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    ]
    uploads = [(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    return sorted(objects), sorted(uploads)


def dry_publish(aws, bundle, url: str, capsys, *extra: str) -> dict:
    argv = ["publish", str(bundle), url, "--endpoint-url", aws.endpoint_url, "--part-size", "5", "--dry-run"]
    assert bundle_cli.main([*argv, *extra]) == 0
    out = capsys.readouterr().out
    return json.loads(out) if "--json" in extra else out


def test_publish_dry_run_lists_every_file_and_leaves_an_empty_bucket_empty(aws, bundle, capsys):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="dry-empty")
    plan = dry_publish(aws, bundle, "s3://dry-empty/b", capsys, "--json")
    sizes = {p.name: p.stat().st_size for p in bundle.iterdir()}
    assert plan == {"upload": sizes, "resume": {}, "skipped": [], "withdraw": False}
    assert snapshot(s3, "dry-empty") == ([], [])
    text = dry_publish(aws, bundle, "s3://dry-empty/b", capsys)
    assert "would upload payload.7z.001 (12.6 MB)\n" in text
    total = format_size(sum(sizes.values()))
    assert text.endswith(f"dry run: would publish 7 file(s), {total}; 0 already in place; s3://dry-empty/b/\n")
    assert snapshot(s3, "dry-empty") == ([], [])


def test_publish_dry_run_names_only_the_changed_files_and_the_withdrawal(aws, bundle, tmp_path, capsys):
    s3, url = aws.client("s3"), f"s3://{BUCKET}/dry/changed"
    publish(s3, bundle, parse_s3_url(url), part_size=MIN_PART_SIZE)
    plan = dry_publish(aws, bundle, url, capsys, "--json")
    assert plan["upload"] == {} and len(plan["skipped"]) == 7 and not plan["withdraw"]
    changed = tmp_path / "changed"
    changed.mkdir()
    files = {p.name: p.read_bytes() for p in bundle.iterdir() if p.name != "SHA256SUMS"}
    files["payload.7z.003"] = os.urandom(3 * MiB)
    files["install.sh"] = b"#!/bin/sh\necho install, again\n"
    for name, data in files.items():
        (changed / name).write_bytes(data)
    (changed / "SHA256SUMS").write_text(
        "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(files.items()))
    )
    before = snapshot(s3, BUCKET)
    plan = dry_publish(aws, changed, url, capsys, "--json")
    assert sorted(plan["upload"]) == ["SHA256SUMS", "install.sh", "payload.7z.003"]
    assert plan["upload"]["payload.7z.003"] == 3 * MiB and plan["withdraw"] is True
    assert plan["skipped"] == ["bootstrap.tar.gz", "bundle.lock", "payload.7z.001", "payload.7z.002"]
    text = dry_publish(aws, changed, url, capsys)
    assert text.startswith(f"would withdraw {url}/SHA256SUMS: another bundle's, deleted first\n")
    assert snapshot(s3, BUCKET) == before


def test_publish_dry_run_reports_the_pending_upload_it_would_resume(aws, bundle, capsys):
    s3, url = aws.client("s3"), f"s3://{BUCKET}/dry/resume"

    with pytest.raises(Interrupt):  # at the second part of payload.7z.002
        publish(s3, bundle, parse_s3_url(url), part_size=MIN_PART_SIZE, bar=CountingBar(after_files=4, cut=2))
    before = snapshot(s3, BUCKET)
    plan = dry_publish(aws, bundle, url, capsys, "--json")
    assert plan["resume"] == {"payload.7z.002": 2}
    assert sorted(plan["upload"]) == ["SHA256SUMS", "payload.7z.002", "payload.7z.003"]
    assert "would upload payload.7z.002 (12.6 MB), resuming an upload with 2 part(s) already there" in (
        dry_publish(aws, bundle, url, capsys)
    )
    assert snapshot(s3, BUCKET) == before


def test_publish_dry_run_checks_the_local_bundle_first(aws, bundle, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "SHA256SUMS").write_text(f"{'0' * 64}  payload.7z.001\n")
    argv = ["publish", str(broken), f"s3://{BUCKET}/dry/broken", "--endpoint-url", aws.endpoint_url, "--dry-run"]
    assert bundle_cli.main(argv) == 2
    assert "files listed in SHA256SUMS are missing: payload.7z.001" in capsys.readouterr().err


def test_fetch_dry_run_writes_nothing_takes_no_lock_and_skips_complete_files(aws, bundle, tmp_path, capsys):
    from installer.statelock import state_lock

    url = f"s3://{BUCKET}/dry/fetch"
    publish(aws.client("s3"), bundle, parse_s3_url(url), part_size=MIN_PART_SIZE)
    dest, state = tmp_path / "nothing" / "here", tmp_path / "state"
    argv = ["fetch", url, str(dest), "--endpoint-url", aws.endpoint_url, "--state-dir", str(state), "--dry-run"]
    with state_lock(state, "install"):  # another run holds the state directory: a dry run still answers
        assert install_cli.main([*argv, "--json"]) == 0
        plan = json.loads(capsys.readouterr().out)
        assert install_cli.main(argv[:-1]) == 2  # the real fetch waits its turn
        assert "held by process" in capsys.readouterr().err
    sizes = {p.name: p.stat().st_size for p in bundle.iterdir() if p.name != "SHA256SUMS"}
    assert plan == {"download": sizes, "partial": {}, "skipped": []}
    assert not (tmp_path / "nothing").exists()
    assert install_cli.main(argv[:-1]) == 0
    capsys.readouterr()
    (dest / "install.sh").write_bytes(b"#!/bin/sh\necho tampered\n")
    assert install_cli.main([*argv, "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["download"] == {"install.sh": sizes["install.sh"]} and len(plan["skipped"]) == 5
    (dest / "install.sh").write_bytes((bundle / "install.sh").read_bytes())
    assert install_cli.main(argv) == 0
    assert capsys.readouterr().out == f"dry run: would fetch 0 file(s), 0 B; 6 already complete in {dest}; {url}/\n"
