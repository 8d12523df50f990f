"""A stemcell's insides are validated against its stemcell.MF: a heavy image's sha1, a light one's AMIs."""

import hashlib

import pytest

from bundler.core.bosh.check import check_artifact, inspect_tarball
from bundler.core.bosh.stemcell import region_problem
from tests.support import boshfixtures as bf


def test_a_heavy_stemcell_with_a_swapped_image_is_caught(tmp_path):
    good = bf.write_stemcell(tmp_path / "good", bf.PV, "3147")
    original = hashlib.sha256(b"x").digest() * 1024
    bad = bf.write_stemcell(tmp_path / "bad", bf.PV, "3147", image=original[::-1], manifest_sha1=bf.sha1(original))
    assert check_artifact(good.path, bf.stemcell_artifact(good)) == []
    problems = [str(p) for p in check_artifact(bad.path, bf.stemcell_artifact(good))]
    assert problems == [
        f"stemcell {bf.PV} 3147 (stemcells/{good.filename}): image sha1 {bf.sha1(original[::-1])}"
        f" does not match stemcell.MF {bf.sha1(original)}"
    ]


@pytest.mark.parametrize("region,ok", [("us-east-1", True), ("eu-central-1", False), ("us-east-1a", False)])
def test_region_problem_explains_an_availability_zone(tmp_path, region, ok):
    st = bf.write_stemcell(tmp_path, bf.HVM, "3147", light=True)
    problem = region_problem(inspect_tarball(st.path).stemcell, region)
    assert (problem is None) == ok
    if region == "us-east-1a":
        assert "looks like an availability zone; the region is 'us-east-1'" in problem


@pytest.mark.parametrize("light", [True, False])
def test_a_stemcell_whose_entries_start_with_dot_slash_is_accepted(tmp_path, light):
    # what `bosh repack-stemcell` writes: ./stemcell.MF, ./image, ... (bosh-init and bosh v7 take it)
    built = bf.write_stemcell(tmp_path, bf.HVM, "3147", light=light, prefix="./")
    found = inspect_tarball(built.path)
    assert found.scan.dot_prefixed and "stemcell.MF" in found.scan.small and "image" in found.scan.members
    assert (found.kind, found.variant, found.problems) == ("stemcell", built.variant, [])
    assert check_artifact(built.path, bf.stemcell_artifact(built)) == []
