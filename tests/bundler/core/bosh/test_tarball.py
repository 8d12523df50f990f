"""A tarball is read in one pass: every inner file hashed, a damaged stream reported (never raised)
with the inner file being read."""

import hashlib
import io
import tarfile

from bundler.core.bosh.check import check_artifact, inspect_tarball, verify_artifact
from bundler.core.bosh.tarball import scan_file
from tests.support import boshfixtures as bf


def test_a_good_release_passes_and_its_parts_are_hashed_in_one_read(tmp_path):
    built = bf.write_release(tmp_path, "bosh", "233")
    scan = scan_file(built.path, digests=("sha1", "sha256"))
    assert scan.dot_prefixed
    assert scan.digests == {"sha1": built.sha1, "sha256": built.sha256}
    assert "packages/nats.tgz" in scan.members and "jobs/director.tgz" in scan.jobs
    assert check_artifact(built.path, bf.release_artifact(built)) == []
    v = verify_artifact(built.path, bf.release_artifact(built))
    assert (v.sha256, v.problems) == (built.sha256, ())


def test_a_truncated_release_names_the_inner_file_being_read(tmp_path):
    built = bf.write_release(tmp_path, "bosh", "233", packages=(*bf.BOSH_PACKAGES, bf.PackageSpec("big", (), 300_000)))
    data = built.path.read_bytes()
    built.path.write_bytes(data[: len(data) // 2])
    problems = [str(p) for p in check_artifact(built.path, bf.release_artifact(built))]
    assert problems and "the tarball is truncated" in problems[0]
    assert "(while reading packages/" in problems[0]


def test_a_file_that_is_not_gzip_is_reported_not_raised(tmp_path):
    path = tmp_path / "x.tgz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("release.MF")
        tar.addfile(info, io.BytesIO(b""))
    path.write_bytes(buf.getvalue())
    found = inspect_tarball(path)
    assert found.problems and "is not a gzip-compressed tarball" in found.problems[0]


def test_a_multi_member_gzip_stemcell_is_read_to_its_end(tmp_path):
    built = bf.write_big_stemcell(tmp_path, 4 * 1024 * 1024, block=1024 * 1024)
    found = inspect_tarball(built.path, digests=("sha256",))
    assert (found.kind, found.variant, found.problems) == ("stemcell", "regular", [])
    assert found.scan.members["image"].size == 4 * 1024 * 1024
    assert found.scan.digests["sha256"] == hashlib.sha256(built.path.read_bytes()).hexdigest()


def test_an_empty_file_is_named_as_such(tmp_path):
    path = tmp_path / "empty.tgz"
    path.write_bytes(b"")
    assert inspect_tarball(path).problems == ["the tarball is empty"]
