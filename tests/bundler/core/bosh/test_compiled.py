"""Compiled releases against the bundled stemcell: refused with the release, packages and both stemcells."""

from __future__ import annotations

import gzip
import io
import tarfile

import yaml

from bundler.core.bosh.compiled import StemcellIdentity, compiled_for, release_problems

NOBLE = StemcellIdentity(
    "stemcell bosh-aws-xen-hvm-ubuntu-noble-go_agent 1.103 (stemcells/s.tgz)", "ubuntu-noble", "1.103"
)


def _release(path, compiled):
    mf = {"name": "bosh", "version": "282.1.1", "jobs": [],
          "compiled_packages": [{"name": n, "version": "1", "fingerprint": "1", "sha1": "x", "stemcell": s,
                                 "dependencies": []} for n, s in compiled.items()]}  # fmt: skip
    data = yaml.safe_dump(mf).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("./release.MF")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    path.write_bytes(gzip.compress(buf.getvalue()))
    return path


def test_compiled_for_reads_each_package_stemcell(tmp_path):
    path = _release(tmp_path / "r.tgz", {"nats": "ubuntu-noble/1.103", "director": "ubuntu-noble/1.99"})
    assert compiled_for(path) == {"director": "ubuntu-noble/1.99", "nats": "ubuntu-noble/1.103"}
    (tmp_path / "broken.tgz").write_bytes(b"not a tarball")
    assert compiled_for(tmp_path / "broken.tgz") == {}


def test_a_package_for_another_stemcell_version_names_release_packages_and_both_stemcells():
    compiled = {"director": "ubuntu-noble/1.99", "nats": "ubuntu-noble/1.99", "bpm": "ubuntu-noble/1.103"}
    [problem] = release_problems("release bosh 282.1.1 (releases/bosh.tgz)", compiled, [NOBLE])
    assert str(problem) == (
        "release bosh 282.1.1 (releases/bosh.tgz): packages director, nats compiled for stemcell ubuntu-noble/1.99,"
        " but the bundled stemcell stemcell bosh-aws-xen-hvm-ubuntu-noble-go_agent 1.103 (stemcells/s.tgz) is"
        " ubuntu-noble/1.103: use the release compiled for that stemcell (or the stemcell ubuntu-noble/1.99)"
    )


def test_a_matching_or_source_release_or_no_stemcell_has_no_problem():
    assert release_problems("r", {"nats": "ubuntu-noble/1.103"}, [NOBLE]) == []
    assert release_problems("r", {}, [NOBLE]) == []
    assert release_problems("r", {"nats": "ubuntu-jammy/1.1"}, []) == []
