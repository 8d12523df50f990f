"""sbom.cdx.json: validated by the CycloneDX project's own library and schema, deterministic, checked by verify."""

from __future__ import annotations

import hashlib
import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from bundler import cli
from bundler.core.lock import Artifact, Lock, parse_lock
from bundler.core.sbom import SBOM, build_sbom, dumps, purl, sbom_problems
from bundler.core.verify import verify_bundle
from tests.support.synthetic import artifact, file_url, make_files, write_test_lock

H = "ab" * 32
TARGET = {"os": "debian", "release": "12", "codename": "bookworm", "arch": "amd64"}


def _lock() -> Lock:
    arts = (
        Artifact("deb", "libc6", "2.36-9+deb12u4", "http://127.0.0.1/l.deb", 10, H, "apt-release-signature",
                 "debs/libc6.deb", {"architecture": "amd64"}),
        Artifact("deb", "tzdata", "1:2024a-0+deb12u1", "http://127.0.0.1/t.deb", 10, H, "apt-release-signature",
                 "debs/tzdata.deb", {"architecture": "all"}),
        Artifact("gem", "rake", "13.0.6", "http://127.0.0.1/rake.gem", 10, H, "compact-index", "gems/rake.gem",
                 {"dependencies": [["json", ">= 0"]]}),
        Artifact("gem", "json", "2.7.1", "http://127.0.0.1/json.gem", 10, H, "compact-index", "gems/json.gem"),
        Artifact("release", "bosh", "280.0.1", "http://127.0.0.1/bosh.tgz", 10, H, "bosh-io", "releases/bosh.tgz",
                 {"sha1": "cd" * 20}),
        Artifact("stemcell", "bosh-aws-xen-hvm-ubuntu-jammy-go_agent", "1.5", "http://127.0.0.1/s.tgz", 10, H,
                 "pinned", "stemcells/s.tgz"),
        Artifact("binary", "bosh-init", "0.0.81", "http://127.0.0.1/b", 10, H, "first-download", "bin/bosh-init"),
    )  # fmt: skip
    return Lock("sbom-test", TARGET, arts, tool="bosh-offline 0.1.0")


def test_the_sbom_validates_against_the_cyclonedx_schema_with_the_cyclonedx_library():
    text = dumps(build_sbom(_lock(), "ef" * 32))
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    sbom = json.loads(text)
    assert sbom["specVersion"] == "1.6" and "timestamp" not in sbom["metadata"]
    by_ref = {c["bom-ref"]: c for c in sbom["components"]}
    assert len(by_ref) == 7
    rel = by_ref["releases/bosh.tgz"]
    assert {h["alg"]: h["content"] for h in rel["hashes"]} == {"SHA-256": H, "SHA-1": "cd" * 20}
    assert {"name": "bosh-offline:trust", "value": "bosh-io"} in rel["properties"]
    deps = {d["ref"]: d["dependsOn"] for d in sbom["dependencies"]}
    assert deps["gems/rake.gem"] == ["gems/json.gem"] and deps["gems/json.gem"] == []


def test_package_urls_parse_with_the_purl_library_and_keep_versions_and_qualifiers():
    lock = _lock()
    got = {a.path: PackageURL.from_string(purl(a, lock.target)) for a in lock.artifacts}
    deb = got["debs/tzdata.deb"]
    assert (deb.type, deb.namespace, deb.name, deb.version) == ("deb", "debian", "tzdata", "1:2024a-0+deb12u1")
    assert deb.qualifiers == {"arch": "all", "distro": "bookworm"}
    assert got["debs/libc6.deb"].version == "2.36-9+deb12u4"
    assert (got["gems/rake.gem"].type, got["bin/bosh-init"].type) == ("gem", "generic")
    assert got["releases/bosh.tgz"].to_string() == "pkg:bosh/release/bosh@280.0.1"
    ubuntu = Lock("u", {**TARGET, "os": "ubuntu", "codename": "jammy"}, lock.artifacts[:1])
    assert purl(ubuntu.artifacts[0], ubuntu.target).startswith("pkg:deb/ubuntu/libc6@")


def test_the_same_lock_gives_the_same_bytes_and_the_serial_follows_the_lock():
    a, b = dumps(build_sbom(_lock(), "ef" * 32)), dumps(build_sbom(_lock(), "ef" * 32))
    assert a == b
    assert json.loads(dumps(build_sbom(_lock(), "01" * 32)))["serialNumber"] != json.loads(a)["serialNumber"]


def test_an_sbom_that_disagrees_with_the_lock_is_a_problem():
    lock = _lock()
    sbom = build_sbom(lock, "ef" * 32)
    assert sbom_problems(dumps(sbom), lock, "ef" * 32) == []
    sbom["components"][0]["version"] = "6.6.6"
    del sbom["components"][1]
    problems = sbom_problems(dumps(sbom), lock, "ef" * 32)
    assert any("differs from bundle.lock" in p for p in problems), problems
    assert any("no component for" in p for p in problems), problems
    assert sbom_problems("{}", lock, "ef" * 32)[0].startswith(f"{SBOM}: not a CycloneDX SBOM")


@pytest.fixture
def built(tmp_path):
    files = make_files(tmp_path / "src", {"alpha": 120_000, "beta": 30_000})
    write_test_lock(
        tmp_path / "bundle.lock", [artifact(n, d, file_url(tmp_path / "src" / n)) for n, d in files.items()]
    )
    argv = [
        "build",
        "--lock",
        str(tmp_path / "bundle.lock"),
        "--out",
        str(tmp_path / "b"),
        "--cache",
        str(tmp_path / "c"),
    ]
    assert cli.main([*argv, "--quiet"]) == 0
    return tmp_path / "b"


def test_build_writes_the_sbom_lists_it_in_the_sums_and_inspect_prints_it(built, capsys):
    lock_bytes = (built / "bundle.lock").read_bytes()
    text = (built / SBOM).read_text()
    assert f"  {SBOM}\n" in (built / "SHA256SUMS").read_text()
    assert text == dumps(build_sbom(parse_lock(lock_bytes.decode()), hashlib.sha256(lock_bytes).hexdigest()))
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    capsys.readouterr()
    assert cli.main(["inspect", str(built), "--sbom"]) == 0
    assert capsys.readouterr().out == text


def test_verify_reports_an_sbom_edited_after_the_build(built):
    sbom = json.loads((built / SBOM).read_text())
    sbom["components"][0]["hashes"][0]["content"] = "00" * 32
    (built / SBOM).write_text(dumps(sbom))
    problems = verify_bundle(built).problems
    assert any(p.startswith(f"{SBOM}: file is damaged") for p in problems), problems
    assert any("differs from bundle.lock" in p for p in problems), problems
