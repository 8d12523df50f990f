"""Releases, stemcells and binaries resolved against a bosh.io replica on 127.0.0.1, then locked."""

import json
import logging
import subprocess
import sys

import pytest

from bundler import cli
from bundler.binaries import resolve_binaries
from bundler.boshio.resolve import resolve_releases, resolve_stemcells
from bundler.core.bosh.check import check_artifact
from bundler.core.errors import FetchError, IntegrityError, ResolutionError
from bundler.core.lock import read_lock
from bundler.lockcontext import LockContext
from bundler.net.http import Http
from bundler.spec import load_spec
from tests.support import boshfixtures as bf
from tests.support import boshioreplica as bio
from tests.support.paths import REPO

ROOT = REPO


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return bio.reference_set(tmp_path_factory.mktemp("boshio"))


def _ctx(spec, tmp_path):
    return LockContext(http=Http(mirrors=spec.mirrors, retries=0), cache=tmp_path / "cache")


def _spec(tmp_path, replica, reference, **kw):
    return load_spec(bio.write_demo_spec(tmp_path / "bundle.yml", replica, reference, **kw))


def test_pinned_versions_resolve_through_bosh_io_and_downloads_are_cached(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        spec = _spec(tmp_path, replica, reference)
        ctx = _ctx(spec, tmp_path)
        releases = resolve_releases(spec, ctx).artifacts
        bosh = next(a for a in releases if a.name == "bosh")
        built = reference.release("bosh", "233")
        assert (bosh.version, bosh.sha256, bosh.trust, bosh.path) == (
            "233",
            built.sha256,
            "pinned",
            "releases/bosh-233.tgz",
        )
        assert bosh.meta == {"sha1": built.sha1}
        assert bosh.url == f"{replica.base_url}/d/github.com/cloudfoundry/bosh?v=233"
        stemcells = {a.meta["variant"]: a for a in resolve_stemcells(spec, ctx).artifacts}
        light = stemcells["light"]
        assert light.trust == "bosh-io"
        assert light.path == "stemcells/light-bosh-stemcell-3147-aws-xen-hvm-ubuntu-trusty-go_agent.tgz"
        assert light.meta["ami"] == dict(sorted(bf.AMIS.items()))
        assert light.meta["operating_system"] == "ubuntu-trusty"
        assert stemcells["regular"].path == "stemcells/bosh-stemcell-3147-aws-xen-ubuntu-trusty-go_agent.tgz"
        assert "ami" not in stemcells["regular"].meta
        # the verified download is in the cache, named by sha256, and passes the contents check
        cached = ctx.cache / "sha256" / bosh.sha256[:2] / bosh.sha256
        assert check_artifact(cached, bosh) == []
        # locking again reads nothing but the API
        before = sum(n for p, n in replica.server.requests.items() if p.startswith("/d/"))
        assert resolve_releases(spec, ctx).artifacts == releases
        assert sum(n for p, n in replica.server.requests.items() if p.startswith("/d/")) == before


def test_latest_takes_the_newest_version(tmp_path, reference):
    with bio.serve_boshio(reference, public_urls=True, release_sha256=True) as replica:
        spec = _spec(
            tmp_path, replica, reference, bosh_version="latest", cpi_version="latest", stemcell_version="latest"
        )
        ctx = _ctx(spec, tmp_path)
        versions = {a.name: (a.version, a.trust) for a in resolve_releases(spec, ctx).artifacts}
        assert versions == {"bosh": ("233", "bosh-io"), "bosh-aws-cpi": ("36", "bosh-io")}
        stemcell = resolve_stemcells(spec, ctx).artifacts[0]
        assert stemcell.version == "3147"
        # the lock names upstream; the replica was reached through the spec's mirrors
        assert stemcell.url.startswith("https://s3.amazonaws.com/bosh-aws-light-stemcells/")


def test_an_unknown_version_lists_what_bosh_io_has(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        spec = _spec(tmp_path, replica, reference, bosh_version="999", pin_sha1=False)
        with pytest.raises(
            ResolutionError, match="bosh.io has no version 999 of github.com/cloudfoundry/bosh; newest: 233, 232"
        ):
            resolve_releases(spec, _ctx(spec, tmp_path))


def test_a_pin_that_disagrees_with_bosh_io_is_refused(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        path = bio.write_demo_spec(tmp_path / "bundle.yml", replica, reference)
        text = path.read_text().replace(
            reference.release("bosh", "233").sha1, "84ea2cfe8ded04f2a5febc887041250ed05fff0a"
        )
        path.write_text(text)
        spec = load_spec(path)
        with pytest.raises(IntegrityError, match="spec pins sha1 84ea2cfe.* but bosh.io publishes"):
            resolve_releases(spec, _ctx(spec, tmp_path))


def test_a_download_that_does_not_match_bosh_io_is_refused_and_discarded(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        spec = _spec(tmp_path, replica, reference, pin_sha1=False)
        replica.server.faults["/d/github.com/cloudfoundry/bosh?v=233"] = {"corrupt": True}
        ctx = _ctx(spec, tmp_path)
        with pytest.raises(IntegrityError, match=r"release bosh 233 \(http://.*\): .*refusing to lock it"):
            resolve_releases(spec, ctx)
        kept = [p.name for p in (ctx.cache / "sha256").rglob("*") if p.is_file()]
        assert kept == [reference.release("bosh-aws-cpi", "36").sha256]  # the good one, locked beside it
        assert not list((ctx.cache / "tmp").iterdir())


def test_a_renamed_release_on_bosh_io_is_refused_at_lock(tmp_path, reference):
    evil = bf.write_release(
        tmp_path / "evil", "bosh", "233", manifest_name="not-bosh", repo="github.com/cloudfoundry/bosh"
    )
    ref = bio.ReferenceSet((evil,), (), {})
    with bio.serve_boshio(ref) as replica:
        path = tmp_path / "bundle.yml"
        path.write_text(
            "name: t\ntarget: {os: debian, release: '12', codename: bookworm}\n"
            f"bosh_io: {{url: '{replica.base_url}'}}\n"
            "releases:\n  - {name: bosh, repo: github.com/cloudfoundry/bosh, version: '233'}\n"
        )
        spec = load_spec(path)
        with pytest.raises(IntegrityError, match="release.MF names the release 'not-bosh', the spec asks for 'bosh'"):
            resolve_releases(spec, _ctx(spec, tmp_path))


def test_a_missing_stemcell_variant_is_explained(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        path = tmp_path / "bundle.yml"
        path.write_text(
            "name: t\ntarget: {os: debian, release: '12', codename: bookworm}\n"
            f"bosh_io: {{url: '{replica.base_url}'}}\n"
            f"stemcells:\n  - {{name: {bf.PV}, version: '3147', variant: light}}\n"
        )
        spec = load_spec(path)
        with pytest.raises(ResolutionError, match="has bosh-aws-xen-ubuntu-trusty-go_agent 3147 but no light variant"):
            resolve_stemcells(spec, _ctx(spec, tmp_path))


def test_binaries_without_a_checksum_are_trusted_on_first_download_with_a_warning(tmp_path, reference, caplog):
    with bio.serve_boshio(reference) as replica:
        spec = _spec(tmp_path, replica, reference)
        ctx = _ctx(spec, tmp_path)
        with caplog.at_level(logging.WARNING):
            (binary,) = resolve_binaries(spec, ctx).artifacts
        data = next(iter(reference.binaries.values())).read_bytes()
        assert (binary.trust, binary.size, binary.path, binary.meta) == (
            "first-download",
            len(data),
            "bin/bosh-init",
            {"mode": "0755"},
        )
        assert binary.url == "https://s3.amazonaws.com/bosh-init-artifacts/bosh-init-0.0.81-linux-amd64"
        assert "binary bosh-init 0.0.81: no checksum is published" in caplog.text
        assert ctx.warnings and binary.sha256 in ctx.warnings[0]
        # a second lock keeps the first download's checksum even if upstream changed
        replica.server.routes[bio.BOSH_INIT_PATH] = b"something else"
        assert resolve_binaries(spec, ctx).artifacts == (binary,)


def test_a_pinned_binary_is_verified(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        path = bio.write_demo_spec(tmp_path / "bundle.yml", replica, reference)
        text = path.read_text().replace("linux-amd64\n", "linux-amd64\n  sha256: '" + "0" * 64 + "'\n")
        path.write_text(text)
        spec = load_spec(path)
        with pytest.raises(
            IntegrityError, match=r"binary bosh-init 0.0.81 .*sha256 is [0-9a-f]{64}, the spec pins 0{64}"
        ):
            resolve_binaries(spec, _ctx(spec, tmp_path))


def test_bosh_bundle_lock_writes_the_bosh_artifacts_and_warns(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        spec_path = bio.write_demo_spec(tmp_path / "bundle.yml", replica, reference)
        argv = [sys.executable, "-m", "bundler", "lock", "--spec", str(spec_path), "--cache", str(tmp_path / "cache")]
        run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert "WARNING: binary bosh-init 0.0.81: no checksum is published" in run.stderr
        first = (tmp_path / "bundle.lock").read_text()
        assert cli.main(argv[3:]) == 0
        assert (tmp_path / "bundle.lock").read_text() == first
    lock = read_lock(tmp_path / "bundle.lock")
    kinds = sorted((a.kind, a.name) for a in lock.artifacts)
    assert kinds == [
        ("binary", "bosh-init"),
        ("release", "bosh"),
        ("release", "bosh-aws-cpi"),
        ("stemcell", bf.HVM),
        ("stemcell", bf.PV),
    ]
    light = lock.find("stemcell", bf.HVM)
    assert json.loads(json.dumps(light.meta["ami"])) == dict(sorted(bf.AMIS.items()))


def test_pinned_urls_need_no_bosh_io_and_latest_takes_the_version_from_the_tarball(tmp_path, reference):
    rel = reference.release("bosh-aws-cpi", "36")
    light = reference.stemcell(bf.HVM, "3147", "light")
    with bio.serve_boshio(reference) as replica:
        path = tmp_path / "bundle.yml"
        path.write_text(
            "name: t\ntarget: {os: debian, release: '12', codename: bookworm}\n"
            "bosh_io: {url: 'http://127.0.0.1:9'}\n"  # nothing listens: bosh.io must not be asked
            "releases:\n"
            f"  - {{name: bosh-aws-cpi, url: '{replica.base_url}/d/{rel.repo}?v=36', sha1: {rel.sha1}}}\n"
            "stemcells:\n"
            f"  - {{name: {bf.HVM}, version: '3147', variant: light,"
            f" url: '{replica.base_url}{bio.LIGHT_BUCKET}/{light.filename}', sha256: {light.sha256}}}\n"
        )
        spec = load_spec(path)
        ctx = _ctx(spec, tmp_path)
        (release,) = resolve_releases(spec, ctx).artifacts
        (stemcell,) = resolve_stemcells(spec, ctx).artifacts
    assert (release.version, release.trust, release.sha256, release.meta["sha1"]) == (
        "36",
        "pinned",
        rel.sha256,
        rel.sha1,
    )
    assert (stemcell.trust, stemcell.sha256, stemcell.meta["ami"]) == (
        "pinned",
        light.sha256,
        dict(sorted(bf.AMIS.items())),
    )


def test_an_unknown_repository_says_to_check_repo(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        path = tmp_path / "bundle.yml"
        path.write_text(
            "name: t\ntarget: {os: debian, release: '12', codename: bookworm}\n"
            f"bosh_io: {{url: '{replica.base_url}'}}\n"
            "releases:\n  - {name: bosh, repo: github.com/cloudfoundry/bosh-typo, version: '233'}\n"
        )
        spec = load_spec(path)
        with pytest.raises(ResolutionError, match="bosh.io knows no release at github.com/cloudfoundry/bosh-typo"):
            resolve_releases(spec, _ctx(spec, tmp_path))


def test_a_transfer_cut_short_is_downloaded_again(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        spec = _spec(tmp_path, replica, reference)
        path = "/d/github.com/cloudfoundry/bosh?v=233"
        body = replica.server.routes[path]

        def heal(handler):  # the first answer is cut (its fault was read already); later ones are whole
            replica.server.faults.pop(path, None)
            return 200, {}, body

        replica.server.routes[path] = heal
        replica.server.faults[path] = {"drop_after": 1000}
        ctx = LockContext(http=Http(mirrors=spec.mirrors, retries=1, backoff=0), cache=tmp_path / "cache")
        bosh = next(a for a in resolve_releases(spec, ctx).artifacts if a.name == "bosh")
        assert bosh.sha256 == reference.release("bosh", "233").sha256
        assert replica.server.requests[path] == 2


def test_a_transfer_cut_short_every_time_is_a_fetch_error(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        spec = _spec(tmp_path, replica, reference)
        replica.server.faults["/d/github.com/cloudfoundry/bosh?v=233"] = {"drop_after": 1000}
        with pytest.raises(FetchError, match=r"GET http://127.0.0.1:\d+/d/github.com/cloudfoundry/bosh\?v=233: trans"):
            resolve_releases(spec, _ctx(spec, tmp_path))


def test_a_first_download_through_a_mirror_is_not_remembered_for_another_source(tmp_path, reference):
    cache = tmp_path / "cache"
    shas = []
    for i in range(2):
        with bio.serve_boshio(reference) as replica:
            replica.server.routes[bio.BOSH_INIT_PATH] = f"bosh-init build {i}".encode()
            spec = _spec(tmp_path / str(i), replica, reference)
            ctx = LockContext(http=Http(mirrors=spec.mirrors, retries=0), cache=cache)
            shas.append(resolve_binaries(spec, ctx).artifacts[0].sha256)
    assert shas[0] != shas[1]


def test_every_failing_release_is_reported_at_once(tmp_path, reference):
    with bio.serve_boshio(reference) as replica:
        spec = _spec(tmp_path, replica, reference, bosh_version="999", cpi_version="998", pin_sha1=False)
        with pytest.raises(ResolutionError) as caught:
            resolve_releases(spec, _ctx(spec, tmp_path))
    assert "release bosh 999: bosh.io has no version 999" in str(caught.value)
    assert "release bosh-aws-cpi 998: bosh.io has no version 998" in str(caught.value)


@pytest.mark.parametrize("compiled_for, refused", [("ubuntu-trusty/3146", True), ("ubuntu-trusty/3147", False)])
def test_a_release_compiled_for_another_stemcell_than_the_locked_ones_is_refused_at_lock(
    tmp_path, reference, compiled_for, refused, capsys
):
    """bosh would find the mismatch only at deploy time, across the gap; lock names it before."""
    import dataclasses
    import hashlib

    from tests.support.createenv import compile_release

    source = reference.release("bosh", "233")
    path = compile_release(source.path, tmp_path / "compiled" / "bosh-233.tgz", compiled_for)
    data = path.read_bytes()
    built = dataclasses.replace(
        source, path=path, sha1=hashlib.sha1(data).hexdigest(), sha256=hashlib.sha256(data).hexdigest()
    )
    swapped = dataclasses.replace(reference, releases=tuple(built if r is source else r for r in reference.releases))
    with bio.serve_boshio(swapped) as replica:
        spec = bio.write_demo_spec(tmp_path / "bundle.yml", replica, swapped)
        code = cli.main(["lock", "--spec", str(spec), "--cache", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    if refused:
        assert code == 1 and not (tmp_path / "bundle.lock").exists(), err
        assert "release bosh 233" in err and f"compiled for stemcell {compiled_for}" in err, err
        assert "is ubuntu-trusty/3147" in err and "refusing to lock them" in err, err
    else:
        assert code == 0 and read_lock(tmp_path / "bundle.lock").find("release", "bosh").sha256 == built.sha256
