"""Release and stemcell tarballs are read in one pass and every problem names the artifact and inner file."""

import hashlib
import io
import tarfile

import pytest

from bundler.boshio.resolve import check_artifact, inspect_tarball, verify_artifact
from bundler.core.bosh.tarball import scan_file
from bundler.core.lock import Artifact
from tests.support import boshfixtures as bf


def _release_artifact(built, name=None, version=None):
    name, version = name or built.name, version or built.version
    return Artifact(
        "release",
        name,
        version,
        "http://h.invalid/r.tgz",
        built.path.stat().st_size,
        built.sha256,
        "bosh-io",
        f"releases/{name}-{version}.tgz",
        {"sha1": built.sha1},
    )


def _stemcell_artifact(built, variant=None, ami=None):
    variant = variant or built.variant
    meta = {"sha1": built.sha1, "variant": variant, "operating_system": "ubuntu-trusty"}
    if variant == "light":
        meta["ami"] = dict(ami if ami is not None else built.ami)
    return Artifact(
        "stemcell",
        built.name,
        built.version,
        "http://h.invalid/s.tgz",
        built.path.stat().st_size,
        built.sha256,
        "bosh-io",
        f"stemcells/{built.filename}",
        meta,
    )


def test_a_good_release_passes_and_its_parts_are_hashed_in_one_read(tmp_path):
    built = bf.write_release(tmp_path, "bosh", "233")
    scan = scan_file(built.path, digests=("sha1", "sha256"))
    assert scan.dot_prefixed
    assert scan.digests == {"sha1": built.sha1, "sha256": built.sha256}
    assert "packages/nats.tgz" in scan.members and "jobs/director.tgz" in scan.jobs
    assert check_artifact(built.path, _release_artifact(built)) == []
    v = verify_artifact(built.path, _release_artifact(built))
    assert (v.sha256, v.problems) == (built.sha256, ())


def test_a_corrupt_package_is_named_with_both_sha1s(tmp_path):
    good = bf.write_release(tmp_path / "good", "bosh", "233")
    bad = bf.write_release(tmp_path / "bad", "bosh", "233", corrupt_package="nats")
    problems = check_artifact(bad.path, _release_artifact(good))
    assert len(problems) == 1
    assert problems[0].startswith("release bosh 233 (releases/bosh-233.tgz): packages/nats.tgz sha1 ")
    assert "does not match release.MF" in problems[0]


def test_a_renamed_release_is_caught(tmp_path):
    built = bf.write_release(tmp_path, "bosh", "233", manifest_name="bosh-evil")
    problems = check_artifact(built.path, _release_artifact(built, name="bosh"))
    assert problems == [
        "release bosh 233 (releases/bosh-233.tgz): release.MF names the release 'bosh-evil', the lock expects 'bosh'"
    ]
    problems = check_artifact(built.path, _release_artifact(built, name="bosh", version="234"))
    assert any("release.MF gives version '233', the lock expects '234'" in p for p in problems)


def test_job_problems_are_all_reported_together(tmp_path):
    job = bf.JobSpec("nats", ("nats", "ghost"), {"nats_ctl.erb": "bin/nats_ctl", "gone.erb": "x"})
    override = bf.job_tgz(job, with_monit=False, drop_templates=("gone.erb",))
    jobs = (job, *bf.BOSH_JOBS[1:])
    built = bf.write_release(tmp_path, "bosh", "233", jobs=jobs, job_overrides={"nats": override})
    problems = check_artifact(built.path, _release_artifact(built))
    text = "\n".join(problems)
    assert "jobs/nats.tgz: job 'nats' is missing its monit file" in text
    assert "jobs/nats.tgz: template 'gone.erb' named in job.MF is missing from templates/" in text
    assert "jobs/nats.tgz: job 'nats' requires package 'ghost' which is not in the release" in text
    assert len(problems) == 3


def test_a_truncated_release_names_the_inner_file_being_read(tmp_path):
    built = bf.write_release(tmp_path, "bosh", "233", packages=(*bf.BOSH_PACKAGES, bf.PackageSpec("big", (), 300_000)))
    data = built.path.read_bytes()
    built.path.write_bytes(data[: len(data) // 2])
    problems = check_artifact(built.path, _release_artifact(built))
    assert problems and "the tarball is truncated" in problems[0]
    assert "(while reading packages/" in problems[0]


def test_a_heavy_stemcell_with_a_swapped_image_is_caught(tmp_path):
    good = bf.write_stemcell(tmp_path / "good", bf.PV, "3147")
    original = hashlib.sha256(b"x").digest() * 1024
    bad = bf.write_stemcell(tmp_path / "bad", bf.PV, "3147", image=original[::-1], manifest_sha1=bf.sha1(original))
    assert check_artifact(good.path, _stemcell_artifact(good)) == []
    problems = check_artifact(bad.path, _stemcell_artifact(good))
    assert problems == [
        f"stemcell {bf.PV} 3147 (stemcells/{good.filename}): image sha1 {bf.sha1(original[::-1])}"
        f" does not match stemcell.MF {bf.sha1(original)}"
    ]


def test_a_light_stemcell_is_checked_against_the_locked_amis(tmp_path):
    built = bf.write_stemcell(tmp_path, bf.HVM, "3147", light=True, ami={"us-east-1": "ami-e62f158c"})
    assert check_artifact(built.path, _stemcell_artifact(built)) == []
    problems = check_artifact(built.path, _stemcell_artifact(built, ami={"us-east-1": "ami-00000000"}))
    assert problems == [
        f"stemcell {bf.HVM} 3147 (stemcells/{built.filename}): stemcell.MF cloud_properties.ami.us-east-1"
        " is ami-e62f158c, the lock says ami-00000000"
    ]
    # a heavy tarball where the lock wants a light one
    heavy = bf.write_stemcell(tmp_path / "h", bf.HVM, "3147")
    problems = check_artifact(heavy.path, _stemcell_artifact(built))
    assert any("image has 32768 bytes; a light stemcell's image is empty" in p for p in problems)


def test_a_stemcell_is_not_a_release(tmp_path):
    st = bf.write_stemcell(tmp_path, bf.HVM, "3147", light=True)
    rel = bf.write_release(tmp_path, "bosh", "233")
    art = _release_artifact(rel)
    problems = check_artifact(st.path, art)
    assert problems == ["release bosh 233 (releases/bosh-233.tgz): release.MF is missing"]
    assert inspect_tarball(st.path).kind == "stemcell"


def test_a_file_that_is_not_gzip_is_reported_not_raised(tmp_path):
    path = tmp_path / "x.tgz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("release.MF")
        tar.addfile(info, io.BytesIO(b""))
    path.write_bytes(buf.getvalue())
    found = inspect_tarball(path)
    assert found.problems and "is not a gzip-compressed tarball" in found.problems[0]


@pytest.mark.parametrize("region,ok", [("us-east-1", True), ("eu-central-1", False), ("us-east-1a", False)])
def test_region_problem_explains_an_availability_zone(tmp_path, region, ok):
    from bundler.boshio.resolve import region_problem

    st = bf.write_stemcell(tmp_path, bf.HVM, "3147", light=True)
    problem = region_problem(inspect_tarball(st.path).stemcell, region)
    assert (problem is None) == ok
    if region == "us-east-1a":
        assert "looks like an availability zone; the region is 'us-east-1'" in problem


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
