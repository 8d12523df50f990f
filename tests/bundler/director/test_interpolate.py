"""What the interpolated bosh-deployment manifest names: releases and stemcells, their digests."""

from __future__ import annotations

import pytest

from bundler.core.errors import InputError, IntegrityError
from bundler.director.interpolate import interpolate, tarballs
from bundler.director.source import top_directory

SHA1 = "68af0c636259a39096efd5924f30964b3427fb27"
SHA256 = "ab" * 32


def _manifest(**stemcell):
    return {
        "releases": [
            {"name": "bosh", "version": "282.1.1", "url": "https://s3.example/bosh.tgz", "sha1": f"sha256:{SHA256}"},
            {"name": "bpm", "version": "1.4.20", "url": "https://s3.example/bpm.tgz", "sha1": SHA1},
        ],
        "resource_pools": [{"name": "vms", "stemcell": stemcell or {"url": "https://gcs.example/s.tgz", "sha1": SHA1}}],
    }


def test_releases_and_the_stemcell_with_their_go_patch_paths_and_digests():
    found = {t.patch_path: t for t in tarballs(_manifest())}
    assert set(found) == {"/releases/name=bosh/url", "/releases/name=bpm/url", "/resource_pools/name=vms/stemcell/url"}
    bosh = found["/releases/name=bosh/url"]
    assert (bosh.sha1, bosh.sha256, bosh.version) == (None, SHA256, "282.1.1")  # sha256:… in the sha1 field
    assert found["/releases/name=bpm/url"].sha1 == SHA1
    assert found["/resource_pools/name=vms/stemcell/url"].kind == "stemcell"


def test_a_stemcell_without_url_or_a_bad_digest_is_named():
    with pytest.raises(InputError, match="the stemcell of resource pool vms has no url"):
        tarballs(_manifest(sha1=SHA1))
    with pytest.raises(InputError, match="release bosh: sha1 'md5:1' is neither 40 hex digits nor sha256:HEX"):
        tarballs({"releases": [{"name": "bosh", "version": "1", "url": "u", "sha1": "md5:1"}]})


def test_a_manifest_without_a_stemcell_asks_for_the_cpi_ops_file():
    with pytest.raises(InputError, match="aws/cpi.yml"):
        tarballs({"releases": _manifest()["releases"]})


def test_a_cli_binary_that_is_not_the_locked_one_is_not_run(tmp_path):
    cli = tmp_path / "bosh"
    cli.write_text("#!/bin/sh\ntouch ran\n")
    with pytest.raises(IntegrityError, match="the lock says 00"):
        interpolate(cli, "0" * 64, tmp_path, "bosh.yml", [])
    assert not (tmp_path / "ran").exists()


def test_the_top_directory_of_a_source_tarball():
    assert top_directory(["bosh-deployment/", "bosh-deployment/bosh.yml", "bosh-deployment/aws/cpi.yml"]) == (
        "bosh-deployment"
    )
    assert top_directory(["bosh.yml", "aws/cpi.yml"]) == ""
