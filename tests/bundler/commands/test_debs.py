"""``bosh-bundle debs resolve`` and ``bosh-bundle lock`` on a local signed repository: bad input gives one
line and a non-zero exit without touching the lock; a good spec locks to the same bytes twice."""

from __future__ import annotations

import json
import lzma

import pytest

from bundler.cli import main
from bundler.debs import resolve as debs
from bundler.lockcontext import LockContext
from bundler.net.http import Http
from bundler.spec import load_spec
from tests.support.aptrepo import build_repo
from tests.support.httpserver import LoopbackServer

PACKAGES = [
    {"Package": "libc6", "Version": "2.36-9", "Priority": "required"},
    {"Package": "zlib1g", "Version": "1:1.2.13-1", "Depends": "libc6 (>= 2.14)"},
    {"Package": "zlib1g-dev", "Version": "1:1.2.13-1", "Depends": "zlib1g (= 1:1.2.13-1), libc6-dev | libc-dev"},
    {"Package": "libc6-dev", "Version": "2.36-9", "Depends": "libc6 (= 2.36-9)", "Provides": "libc-dev"},
    {"Package": "needs-new", "Version": "1.0", "Depends": "zlib1g (>= 1:2.0)"},
    {"Package": "python3", "Version": "3.11.2-1", "Depends": "libc6", "Pre-Depends": "python3-minimal (= 3.11.2-1)"},
    {"Package": "python3-minimal", "Version": "3.11.2-1", "Pre-Depends": "libc6 (>= 2.36)"},
    {"Package": "python3-yaml", "Version": "6.0-3", "Depends": "python3"},
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return build_repo(tmp_path_factory.mktemp("repo"), PACKAGES, gnupghome=tmp_path_factory.mktemp("gnupg"))


def write_spec(path, url, keyring, packages=("zlib1g-dev",), extra=""):
    path.write_text(
        "name: t\ntarget: {os: debian, release: '12', codename: stable, arch: amd64}\n"
        f"apt:\n  sources:\n    - url: {url}\n      suites: [stable]\n      components: [main]\n"
        f"      keyring: {keyring}\n{extra}"
        f"debs:\n  base: none\n  packages: [{', '.join(packages)}]\n"
    )
    return path


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def source_line(srv, keyring):
    return f"deb [signed-by={keyring}] {srv.base_url} stable main"


def test_resolve_prints_the_install_order_and_json(repo, tmp_path, capsys):
    with LoopbackServer(root=repo.root) as srv:
        base = ["debs", "resolve", "--source", source_line(srv, repo.keyring), "--cache", str(tmp_path), "--base"]
        code, out, err = run([*base, "none", "zlib1g-dev"], capsys)
        assert code == 0 and out.splitlines() == [
            "libc6=2.36-9",
            "libc6-dev=2.36-9",
            "zlib1g=1:1.2.13-1",
            "zlib1g-dev=1:1.2.13-1",
        ]
        assert "4 packages (0 upgrades)" in err
        code, out, _ = run([*base, "minimal", "--json", "zlib1g-dev"], capsys)
        data = json.loads(out)
        assert code == 0 and data["install_order"] == [
            "debs/libc6-dev_2.36-9_amd64.deb",
            "debs/zlib1g_1.2.13-1_amd64.deb",
            "debs/zlib1g-dev_1.2.13-1_amd64.deb",
        ]
        assert {a["trust"] for a in data["artifacts"]} == {"apt-release-signature"}


@pytest.mark.parametrize(
    ("packages", "message"),
    [
        (["no-such-package"], "package no-such-package is not in any configured apt source"),
        (["zlib1g=9.9"], "package zlib1g: version 9.9 is not available (available: 1:1.2.13-1)"),
        (["needs-new"], "cannot install needs-new: needs-new 1.0 depends on zlib1g (>= 1:2.0), zlib1g has 1:1.2.13-1"),
    ],
)
def test_unresolvable_request_is_one_line_and_leaves_the_lock(repo, tmp_path, capsys, packages, message):
    lock = tmp_path / "bundle.lock"
    lock.write_text("previous\n")
    with LoopbackServer(root=repo.root) as srv:
        spec = write_spec(tmp_path / "bundle.yml", srv.base_url, repo.keyring, packages)
        code, _, err = run(["lock", "--spec", str(spec), "--lock", str(lock), "--cache", str(tmp_path / "c")], capsys)
        assert code == 1 and len(err.strip().splitlines()) == 1 and message in err
        code, _, err = run(["debs", "resolve", "--source", source_line(srv, repo.keyring), *packages], capsys)
        assert code == 1 and message in err
    assert lock.read_text() == "previous\n"


def test_broken_signature_and_tampered_index_fail_without_writing(repo, tmp_path, capsys):
    lock = tmp_path / "bundle.lock"
    inrelease = (repo.root / "dists/stable/InRelease").read_text().replace("Suite: stable", "Suite: stab1e")
    tampered = lzma.compress(b"Package: zlib1g-dev\nVersion: 9\nFilename: pool/x.deb\nSize: 1\nSHA256: 00\n")
    cases = [
        ({"/dists/stable/InRelease": inrelease.encode()}, "signature check failed: BAD signature"),
        ({"/dists/stable/main/binary-amd64/Packages.xz": tampered}, "Packages.xz: sha256 is"),
    ]
    for routes, message in cases:
        with LoopbackServer(root=repo.root, routes=routes) as srv:
            spec = write_spec(tmp_path / "bundle.yml", srv.base_url, repo.keyring)
            args = ["lock", "--spec", str(spec), "--lock", str(lock), "--cache", str(tmp_path / "c")]
            code, _, err = run(args, capsys)
            assert code == 1 and len(err.strip().splitlines()) == 1 and message in err
            assert not lock.exists()


def test_trusted_source_is_recorded_and_malformed_spec_is_input_error(repo, tmp_path, capsys):
    with LoopbackServer(root=repo.root) as srv:
        other = tmp_path / "empty-keyring.gpg"
        other.write_bytes(b"")
        spec = write_spec(tmp_path / "bundle.yml", srv.base_url, other, extra="      trusted: true\n")
        lock = tmp_path / "bundle.lock"
        assert run(["lock", "--spec", str(spec), "--lock", str(lock), "--cache", str(tmp_path / "c")], capsys)[0] == 0
        assert {a["trust"] for a in json.loads(lock.read_text())["artifacts"]} == {"trusted-by-spec"}
        bad = tmp_path / "bad.yml"
        bad.write_text(spec.read_text().replace("packages: [zlib1g-dev]", "packages: [Not A Name]"))
        code, _, err = run(["lock", "--spec", str(bad), "--lock", str(tmp_path / "x.lock")], capsys)
        assert code == 2 and "debs.packages[0]" in err and len(err.strip().splitlines()) == 1
        assert not (tmp_path / "x.lock").exists()


def test_lock_is_deterministic(repo, tmp_path, capsys):
    with LoopbackServer(root=repo.root) as srv:
        spec = write_spec(tmp_path / "bundle.yml", srv.base_url, repo.keyring)
        lock = tmp_path / "bundle.lock"
        assert run(["lock", "--spec", str(spec), "--lock", str(lock), "--cache", str(tmp_path / "c1")], capsys)[0] == 0
        first = lock.read_bytes()
        code, out, _ = run(["lock", "--spec", str(spec), "--lock", str(lock), "--cache", str(tmp_path / "c2")], capsys)
        assert code == 0 and "unchanged" in out and lock.read_bytes() == first
    data = json.loads(first)
    assert data["sections"]["debs"]["install_order"][-1] == "debs/zlib1g-dev_1.2.13-1_amd64.deb"
    assert data["sections"]["debs"]["base"] == "none"


def test_distro_runtime_debs_are_added_and_marked(repo, tmp_path):
    """``runtime: distro``: the deb resolver adds what the sources have of RUNTIME_DEBS and marks them."""
    with LoopbackServer(root=repo.root) as srv:
        spec = load_spec(write_spec(tmp_path / "b.yml", srv.base_url, repo.keyring, extra="runtime: {mode: distro}\n"))
        part = debs.resolve(spec, LockContext(Http(retries=0), tmp_path / "c"))
    section = part.section
    assert section["runtime"] == [
        "debs/libc6_2.36-9_amd64.deb",
        "debs/python3-minimal_3.11.2-1_amd64.deb",
        "debs/python3_3.11.2-1_amd64.deb",
        "debs/python3-yaml_6.0-3_amd64.deb",
    ]
    assert section["runtime_stages"] == [  # each Pre-Depends forces a later dpkg -i call
        ["debs/libc6_2.36-9_amd64.deb"],
        ["debs/python3-minimal_3.11.2-1_amd64.deb"],
        ["debs/python3_3.11.2-1_amd64.deb", "debs/python3-yaml_6.0-3_amd64.deb"],
    ]
    assert section["requested"] == ["python3", "python3-yaml", "zlib1g-dev"]
    assert "debs/zlib1g-dev_1.2.13-1_amd64.deb" in section["install_order"]
