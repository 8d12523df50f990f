"""Releases, stemcells and bosh-init through the whole connected side: lock from a bosh.io replica,
build, verify; then a lock that names a wrong file (corrupt inside, swapped image, other AMIs,
renamed release) is refused by build with the artifact and the inner file named."""

import json

import pytest

from bundler import cli
from tests.support import boshfixtures as bf
from tests.support import boshioreplica as bio


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return bio.reference_set(tmp_path_factory.mktemp("boshio"))


def _lock(tmp_path, replica, reference):
    spec = bio.write_demo_spec(tmp_path / "bundle.yml", replica, reference)
    assert cli.main(["lock", "--spec", str(spec), "--cache", str(tmp_path / "cache")]) == 0
    return spec, tmp_path / "bundle.lock"


def _build(tmp_path, spec, lock, out):
    argv = ["build", "--lock", str(lock), "--out", str(out), "--cache", str(tmp_path / "cache")]
    return cli.main([*argv, "--spec", str(spec), "--quiet"])


def _retarget(lock, kind, name, built, url, **meta):
    """Point the lock's artifact at another file, consistently (url, size, sha256): only the
    contents check can tell it is the wrong thing."""
    doc = json.loads(lock.read_text())
    art = next(a for a in doc["artifacts"] if a["kind"] == kind and a["name"] == name)
    art.update(url=url, size=built.path.stat().st_size, sha256=built.sha256)
    art["meta"].update(sha1=built.sha1, **meta)
    lock.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return art


def test_lock_build_verify_then_every_wrong_file_is_named(tmp_path, reference, capsys):
    with bio.serve_boshio(reference) as replica:
        spec, lock = _lock(tmp_path, replica, reference)
        assert _build(tmp_path, spec, lock, tmp_path / "good") == 0
        capsys.readouterr()
        assert cli.main(["verify", "--json", str(tmp_path / "good")]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["contents_checked"] >= 4  # both releases and both stemcells, inside

        bad = tmp_path / "bad"
        corrupt = bf.write_release(bad, "bosh", "233", corrupt_package="nats", filename="corrupt.tgz")
        renamed = bf.write_release(bad, "bosh-aws-cpi", "36", manifest_name="aws-cpi", jobs=bf.CPI_JOBS,
                                   packages=bf.CPI_PACKAGES, filename="renamed.tgz")  # fmt: skip
        original = b"the original image" * 100
        swapped = bf.write_stemcell(bad, bf.PV, "3147", image=b"x" * 1800, manifest_sha1=bf.sha1(original))
        for built in (corrupt, renamed, swapped):
            replica.server.routes[f"/bad/{built.path.name}"] = built.path.read_bytes()
        _retarget(lock, "release", "bosh", corrupt, replica.base_url + "/bad/corrupt.tgz")
        _retarget(lock, "release", "bosh-aws-cpi", renamed, replica.base_url + "/bad/renamed.tgz")
        _retarget(lock, "stemcell", bf.PV, swapped, replica.base_url + f"/bad/{swapped.path.name}")
        doc = json.loads(lock.read_text())
        light = next(a for a in doc["artifacts"] if a["name"] == bf.HVM)
        light["meta"]["ami"]["us-east-1"] = "ami-00000000"
        lock.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")

        assert _build(tmp_path, spec, lock, tmp_path / "wrong") == 1
    err = capsys.readouterr().err
    assert "release bosh 233 (releases/bosh-233.tgz): packages/nats.tgz sha1 " in err
    assert (
        "release bosh-aws-cpi 36 (releases/bosh-aws-cpi-36.tgz): release.MF names the release 'aws-cpi',"
        " the lock expects 'bosh-aws-cpi'" in err
    )
    assert f"stemcell {bf.PV} 3147 (stemcells/bosh-stemcell-3147-aws-xen-ubuntu-trusty-go_agent.tgz): image sha1" in err
    assert "stemcell.MF cloud_properties.ami.us-east-1 is ami-e62f158c, the lock says ami-00000000" in err
