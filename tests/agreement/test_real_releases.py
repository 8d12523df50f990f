"""Release tarballs made by the real ``bosh create-release`` (and bosh-cli's own test assets) against
our ``bosh-bundle bosh check``, and what a transfer can break in them against the real tools.

Every real tarball passes our check.  Each corruption (a byte flipped inside a package, the outer
gzip cut short, a job removed) is refused by our check and by the real tools that read the tarball
before deploying anything: ``bosh-init deploy`` and the v7 CLI's ``bosh create-env`` both stop before
their first CPI call.  ``bosh inspect-local-release`` reads only ``release.MF`` and notices nothing
but the truncation.  Neither real tool checks a package's sha1: a package whose gzip header changed
(valid gzip, another sha1) goes through both, and only our check refuses it.  A renamed release is
refused by the real tools (the manifest names ``bosh``); ``bosh-bundle bosh check``, which is told no
expected name, reports the name it found (the comparison with the lock is build's and verify's), and
``bosh-install manifests check``, which knows the name the manifests give it, refuses the bundle
that holds it, naming both names.  A job spec with
a TAB inside a plain scalar (valid YAML) is accepted by the real tools and by our check.
"""

from __future__ import annotations

import copy
import tarfile

import pytest

from installer.cli import main as install_main
from tests.support.deployfixtures import make_fixture, replace_release
from tests.support.realbosh import deploy, tarballs
from tests.support.realbosh.releases import LABELS, RELEASES, ReleaseSource, build_source, cache_root
from tests.support.realbosh.tools import run_tool

pytestmark = pytest.mark.real_bosh

TAB_SPEC = ("jobs/nats/spec", "description: TCP port", "description: TCP\tport")


def _deployed_with(manifest: dict, bosh_release) -> dict:
    doc = copy.deepcopy(manifest)
    doc["releases"][0].update(url=f"file://{bosh_release}", sha1="0" * 40)  # neither real tool reads it
    return doc


def _real_runs(real_tools, manifest: dict, release, tmp_path) -> dict[str, deploy.Outcome]:
    doc = _deployed_with(manifest, release)
    return {
        "bosh-init deploy": deploy.bosh_init(real_tools, "deploy", doc, tmp_path / "bosh-init"),
        "bosh create-env": deploy.create_env(real_tools, doc, tmp_path / "create-env"),
    }


@pytest.mark.parametrize("label", LABELS)
def test_every_real_release_passes_bosh_check(real_releases, label):
    release = real_releases[label]
    code, report = tarballs.bosh_check(release.path)
    assert code == 0, report
    (entry,) = report["tarballs"]
    assert (entry["kind"], entry["name"], entry["version"]) == ("release", release.name, release.version)


def test_the_fixtures_hold_both_digest_forms_and_compiled_releases(real_releases):
    def digests(label):
        return {line.split("sha1: ")[1][:7] for line in _release_mf(real_releases[label].path) if "sha1: " in line}

    assert digests("bosh-final") == {"sha256:"}
    assert all(len(d) == 7 and d != "sha256:" for d in digests("bosh-final-sha1"))
    assert digests("bosh-final-sha2") == {"sha256:"}
    assert real_releases["asset-small-sha256-compiled-release"].compiled
    assert real_releases["test-cpi-dev-sha1"].name == "bosh-aws-cpi"


def _release_mf(path):
    with tarfile.open(path) as tar:
        member = next(m for m in tar if m.name.removeprefix("./") == "release.MF")
        return tar.extractfile(member).read().decode().splitlines()


CORRUPTIONS = [
    pytest.param(
        lambda src, dest: tarballs.flip_package_byte(src, dest, "director"),
        "packages/director.tgz sha",  # sha1 or sha256, as release.MF gives it
        "Extracting package 'director'",
        id="byte-flipped-in-a-package",
    ),
    pytest.param(
        lambda src, dest: tarballs.truncate(src, dest),
        "the tarball is truncated",
        "Extracting release",
        id="outer-gzip-truncated",
    ),
    pytest.param(
        lambda src, dest: tarballs.drop_job(src, dest, "director"),
        "jobs/director.tgz is listed in release.MF but missing from the tarball",
        "Reading job 'director' from archive",
        id="job-removed",
    ),
]


@pytest.mark.parametrize("base", ["bosh-final-sha1", "bosh-final"])
@pytest.mark.parametrize("corrupt, ours_says, bosh_init_says", CORRUPTIONS)
def test_a_corrupted_release_is_refused_by_bosh_check_and_by_the_real_tools(
    real_tools, real_releases, microbosh_manifest, tmp_path, base, corrupt, ours_says, bosh_init_says
):
    damaged = corrupt(real_releases[base].path, tmp_path / "bosh.tgz")
    code, report = tarballs.bosh_check(damaged)
    assert code == 1 and any(ours_says in p for p in report["tarballs"][0]["problems"]), report
    runs = _real_runs(real_tools, microbosh_manifest, damaged, tmp_path)
    for tool, outcome in runs.items():
        assert outcome.refused, f"{tool} should refuse the damaged release before any CPI call:\n{outcome.output}"
    assert bosh_init_says in runs["bosh-init deploy"].stderr


def test_the_real_tools_take_the_undamaged_release_to_the_cpi(real_tools, real_releases, microbosh_manifest, tmp_path):
    """The control for the corruptions: the same runs with the release as the CLI made it."""
    runs = _real_runs(real_tools, microbosh_manifest, real_releases["bosh-final-sha1"].path, tmp_path)
    assert runs["bosh-init deploy"].stopped_at_create_stemcell, runs["bosh-init deploy"].output
    assert runs["bosh create-env"].reached_cpi, runs["bosh create-env"].output
    assert runs["bosh create-env"].calls[0]["method"] == "info"  # the v7 CLI asks the CPI's API version first


def test_a_package_with_another_sha1_goes_through_the_real_tools_and_only_our_check_refuses_it(
    real_tools, real_releases, microbosh_manifest, tmp_path
):
    damaged = tarballs.touch_package_header(real_releases["bosh-final-sha1"].path, tmp_path / "bosh.tgz", "director")
    code, report = tarballs.bosh_check(damaged)
    assert code == 1 and any("packages/director.tgz sha1" in p for p in report["tarballs"][0]["problems"]), report
    runs = _real_runs(real_tools, microbosh_manifest, damaged, tmp_path)
    assert runs["bosh-init deploy"].stopped_at_create_stemcell, runs["bosh-init deploy"].output
    assert runs["bosh create-env"].reached_cpi, runs["bosh create-env"].output


def test_a_renamed_release_is_refused_by_the_real_tools_and_bosh_check_names_what_it_found(
    real_tools, real_releases, microbosh_manifest, tmp_path
):
    renamed = tarballs.rename(real_releases["bosh-final-sha1"].path, tmp_path / "bosh.tgz", "bosh", "bosh-renamed")
    code, report = tarballs.bosh_check(renamed)
    assert report["tarballs"][0]["name"] == "bosh-renamed"  # build and verify compare it with the lock's "bosh"
    runs = _real_runs(real_tools, microbosh_manifest, renamed, tmp_path)
    for tool, outcome in runs.items():
        assert outcome.refused, f"{tool}:\n{outcome.output}"
        assert "Release name 'bosh' does not match the name in release tarball 'bosh-renamed'" in outcome.stderr


def test_a_renamed_release_in_the_bundle_is_refused_by_manifests_check_naming_both_names(
    real_releases, tmp_path, capsys
):
    renamed = tarballs.rename(real_releases["bosh-final-sha1"].path, tmp_path / "bosh.tgz", "bosh", "bosh-renamed")
    fx = replace_release(make_fixture(tmp_path / "site"), "bosh", renamed.read_bytes())
    args = ["--site", str(fx.site_path), "--lock", str(fx.lock_path), "--payload", str(fx.payload)]
    assert install_main(["manifests", "check", *args, "--state-dir", str(tmp_path / "state")]) == 2
    err = capsys.readouterr().err
    assert (
        "release bosh 233 (releases/bosh-233.tgz): its release.MF names the release 'bosh-renamed',"
        " but the lock and the manifests name it 'bosh'" in err
    ), err


@pytest.mark.parametrize(
    "corrupt, noticed",
    [
        pytest.param(lambda s, d: tarballs.flip_package_byte(s, d, "director"), False, id="byte-flipped-in-a-package"),
        pytest.param(lambda s, d: tarballs.drop_job(s, d, "director"), False, id="job-removed"),
        pytest.param(lambda s, d: tarballs.truncate(s, d), True, id="outer-gzip-truncated"),
    ],
)
def test_bosh_inspect_local_release_reads_only_the_manifest(real_tools, real_releases, tmp_path, corrupt, noticed):
    damaged = corrupt(real_releases["bosh-final-sha1"].path, tmp_path / "bosh.tgz")
    proc = run_tool([real_tools.bosh, "inspect-local-release", damaged], home=tmp_path / "home")
    assert (proc.returncode != 0) == noticed, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def release_with_a_tab(real_tools, tmp_path_factory):
    """The ``bosh`` release made by the real create-release from a directory whose nats job spec has a
    TAB inside a plain scalar (``description: TCP<TAB>port``): YAML allows it, and so do the real tools."""
    source = ReleaseSource("bosh-tab", RELEASES / "bosh", final_version="233", substitutions=(TAB_SPEC,))
    return build_source(source, real_tools, cache_root(tmp_path_factory.mktemp("tab")))["bosh-tab-final-sha1"]


def test_a_tab_in_a_job_spec_is_accepted_by_the_real_tools(
    real_tools, release_with_a_tab, microbosh_manifest, tmp_path
):
    proc = run_tool([real_tools.bosh, "inspect-local-release", release_with_a_tab.path], home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    real = deploy.bosh_init(real_tools, "deploy", _deployed_with(microbosh_manifest, release_with_a_tab.path), tmp_path)
    assert real.stopped_at_create_stemcell, real.output


def test_a_tab_in_a_job_spec_is_accepted_by_bosh_check(release_with_a_tab):
    code, report = tarballs.bosh_check(release_with_a_tab.path)
    assert code == 0, report
