"""Inside the releases: `manifests check` reads release.MF (extracted, or from the bundle's payload)
and refuses a release that lacks a job the manifests name, or that carries another name."""

import gzip
import shutil

from bundler.core.archive import write_payload
from bundler.core.password import ENV as PASSWORD_ENV
from installer.cli import main
from installer.manifests.releases import named_jobs, read_release_file, release_contents
from tests.support.boshfixtures import write_release
from tests.support.deployfixtures import BOSH_RELEASE_JOBS, make_fixture, release_tarball, replace_release

WITHOUT_REGISTRY = tuple(j for j in BOSH_RELEASE_JOBS if j != "registry")


def _check(fx, tmp_path, *where):
    return main(["manifests", "check", "--site", str(fx.site_path), "--state-dir", str(tmp_path / "state"), *where])


def _bundle(fx, tmp_path, password=None):
    """The fixture as a bundle directory (payload.7z and bundle.lock), nothing extracted."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    write_payload(bundle, [(a.path, fx.payload / a.path) for a in fx.lock.artifacts], password=password)
    shutil.copy(fx.lock_path, bundle / "bundle.lock")
    shutil.rmtree(fx.payload)
    return bundle


def test_release_mf_is_read_from_the_start_of_the_tarball(tmp_path):
    built = write_release(tmp_path, "bosh", "233")
    data = built.path.read_bytes()
    found = release_contents([data[:-8]])  # release.MF comes first: a damaged end is not reached
    assert found.problem is None and {j.name for j in found.manifest.jobs} == {"nats", "director", "health_monitor"}
    assert read_release_file(built.path).manifest.name == "bosh"
    (tmp_path / "junk.tgz").write_bytes(b"not a tarball")
    assert "not a gzip-compressed tarball" in read_release_file(tmp_path / "junk.tgz").problem
    (tmp_path / "empty.tgz").write_bytes(gzip.compress(bytes(1024)))
    assert "has no release.MF" in read_release_file(tmp_path / "empty.tgz").problem


def test_named_jobs_of_both_manifests():
    microbosh = {
        "releases": [{"name": "bosh"}, {"name": "cpi"}],
        "jobs": [{"templates": [{"name": "nats", "release": "bosh"}]}],
        "cloud_provider": {"template": {"name": "aws_cpi", "release": "cpi"}},
    }
    assert [(n.where, n.job, n.release) for n in named_jobs("microbosh", microbosh)] == [
        ("jobs[0].templates[0]", "nats", "bosh"),
        ("cloud_provider.template", "aws_cpi", "cpi"),
    ]
    v1 = {"release": {"name": "bosh"}, "jobs": [{"template": "nats"}, {"templates": [{"name": "director"}]}]}
    assert [(n.where, n.job, n.release) for n in named_jobs("bosh", v1)] == [
        ("jobs[0].template", "nats", "bosh"),
        ("jobs[1].templates[0]", "director", "bosh"),
    ]


def test_the_fixture_releases_have_every_job_the_manifests_name(tmp_path, capsys):
    fx = make_fixture(tmp_path / "site")
    assert _check(fx, tmp_path, "--lock", str(fx.lock_path), "--payload", str(fx.payload)) == 0, capsys.readouterr()


def test_a_release_without_a_job_the_manifests_name_is_refused_naming_the_job_and_the_release(tmp_path, capsys):
    fx = replace_release(make_fixture(tmp_path / "site"), "bosh", release_tarball("bosh", "233", WITHOUT_REGISTRY))
    assert _check(fx, tmp_path, "--lock", str(fx.lock_path), "--payload", str(fx.payload)) == 2
    err = capsys.readouterr().err
    assert (
        "release bosh 233 (releases/bosh-233.tgz): has no job 'registry' (at jobs[0].templates[6]), which the"
        " microbosh manifest names (the release has: blobstore, director, health_monitor, nats, postgres, powerdns,"
        " redis); bosh-init refuses it" in err
    )
    assert "has no job 'registry' (at jobs[4].template), which the bosh manifest names" in err


def test_the_cpi_job_is_looked_for_in_the_cpi_release_in_the_bundle(tmp_path, capsys):
    fx = replace_release(
        make_fixture(tmp_path / "site"), "bosh-aws-cpi", release_tarball("bosh-aws-cpi", "36", ("cpi",))
    )
    bundle = _bundle(fx, tmp_path)
    assert _check(fx, tmp_path, "--bundle", str(bundle), "--only", "microbosh") == 2
    err = capsys.readouterr().err
    assert (
        "release bosh-aws-cpi 36 (releases/bosh-aws-cpi-36.tgz): has no job 'aws_cpi' (at jobs[0].templates[7],"
        " cloud_provider.template), which the microbosh manifest names (the release has: cpi)" in err
    )


def test_check_reads_the_releases_from_the_bundle_when_nothing_is_extracted(tmp_path, capsys):
    fx = make_fixture(tmp_path / "site")
    bundle = _bundle(fx, tmp_path)
    assert _check(fx, tmp_path, "--bundle", str(bundle)) == 0, capsys.readouterr()
    assert _check(fx, tmp_path, "--lock", str(bundle / "bundle.lock")) == 2
    assert "is not extracted and no --bundle was given: extract it or pass --bundle" in capsys.readouterr().err


def test_a_renamed_release_in_the_bundle_is_refused_naming_both_names(tmp_path, capsys):
    renamed = write_release(tmp_path / "r", "bosh", "233", manifest_name="bosh-renamed").path.read_bytes()
    fx = replace_release(make_fixture(tmp_path / "site"), "bosh", renamed)
    assert _check(fx, tmp_path, "--bundle", str(_bundle(fx, tmp_path)), "--only", "microbosh") == 2
    err = capsys.readouterr().err
    assert "its release.MF names the release 'bosh-renamed', but the lock and the manifests name it 'bosh'" in err


def test_an_encrypted_bundle_is_read_with_its_password(tmp_path, capsys, monkeypatch):
    fx = replace_release(make_fixture(tmp_path / "site"), "bosh", release_tarball("bosh", "233", WITHOUT_REGISTRY))
    bundle = _bundle(fx, tmp_path, password="s3cret-pass")
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    assert _check(fx, tmp_path, "--bundle", str(bundle), "--only", "microbosh") == 2
    assert (
        "cannot read the bundle's payload: the bundle is encrypted: set BOSH_BUNDLE_PASSWORD" in capsys.readouterr().err
    )
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-pass")
    assert _check(fx, tmp_path, "--bundle", str(bundle), "--only", "microbosh") == 2
    assert "has no job 'registry' (at jobs[0].templates[6])" in capsys.readouterr().err
