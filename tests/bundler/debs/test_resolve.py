"""The deb resolver follows apt's rules, shown on a small signed repository served on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from bundler.apt.client import AptClient
from bundler.core.errors import ResolutionError
from bundler.debs.resolve import DebRequest, lock_part, resolve_request
from bundler.net.http import Http
from bundler.spec import AptSource
from tests.support.aptrepo import build_repo
from tests.support.httpserver import LoopbackServer

P = [
    {"Package": "libc6", "Version": "2.36-9", "Priority": "required", "Multi-Arch": "same"},
    {"Package": "base-files", "Version": "12.4", "Essential": "yes", "Priority": "required", "Depends": "libc6"},
    {"Package": "mawk", "Version": "1.3.4-3", "Priority": "required", "Provides": "awk", "Depends": "libc6"},
    {"Package": "gawk", "Version": "1:5.2.1-2", "Provides": "awk", "Depends": "libc6 (>= 2.34)"},
    {"Package": "libfoo1", "Version": "1.0-1", "Source": "foo", "Depends": "libc6"},
    {"Package": "libfoo1", "Version": "2.0-1", "Source": "foo", "Depends": "libc6 (>= 2.36)"},
    {"Package": "foo-utils", "Version": "1.0-1", "Source": "foo", "Depends": "libfoo1 (>= 1.0)"},
    {"Package": "foo-utils", "Version": "2.0-1", "Source": "foo", "Depends": "libfoo1 (>= 2.0)"},
    {"Package": "libfoo-dev", "Version": "1.0-1", "Source": "foo", "Depends": "libfoo1 (= 1.0-1)"},
    {"Package": "libfoo-dev", "Version": "2.0-1", "Source": "foo", "Depends": "libfoo1 (= 2.0-1)"},
    {"Package": "app", "Version": "3.0", "Depends": "libfoo1 (>= 2.0), awk", "Pre-Depends": "tool-core"},
    {"Package": "tool-core", "Version": "1.0", "Depends": "libc6"},
    {"Package": "exim-ish", "Version": "4.96", "Provides": "mail-transport-agent", "Conflicts": "postfix-ish"},
    {"Package": "postfix-ish", "Version": "3.7", "Provides": "mail-transport-agent", "Conflicts": "exim-ish"},
    {"Package": "mailer", "Version": "8.1", "Depends": "exim-ish | mail-transport-agent"},
    {"Package": "libbar3", "Version": "3.1", "Provides": "libbar-abi (= 3)"},
    {"Package": "libbar2", "Version": "2.9", "Provides": "libbar-abi (= 2)"},
    {"Package": "bar-plugin", "Version": "1.0", "Depends": "libbar-abi (>= 3)"},
    {"Package": "cyc-a", "Version": "1", "Depends": "cyc-b"},
    {"Package": "cyc-b", "Version": "1", "Depends": "cyc-a, libc6"},
    {"Package": "docs", "Version": "1.0", "Architecture": "all", "Recommends": "gawk"},
    {"Package": "broken", "Version": "1.0", "Depends": "missing-lib (>= 2)"},
    {"Package": "wants-broken", "Version": "1.0", "Depends": "broken"},
    {"Package": "i386-only", "Version": "1.0", "Architecture": "i386"},
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    repo = build_repo(tmp_path_factory.mktemp("repo"), P, gnupghome=tmp_path_factory.mktemp("gnupg"))
    with LoopbackServer(root=repo.root) as srv:
        yield srv, AptSource(srv.base_url, ("stable",), ("main",), str(repo.keyring))


def resolve(server, tmp_path, packages, base="none", **kw):
    _, source = server
    client = AptClient(Http(retries=0), tmp_path / "cache")
    return resolve_request(DebRequest(tuple(packages), (source,), "amd64", base, **kw), client)


def names(res):
    return {f"{c.name}={c.version}" for c in res.install}


def status_file(tmp_path, installed):
    text = "\n".join(
        f"Package: {n}\nStatus: install ok installed\nVersion: {v}\nArchitecture: amd64\n{extra}"
        for n, v, extra in installed
    )
    path = tmp_path / "status"
    path.write_text(text)
    return str(path)


def test_newest_candidates_alternatives_and_pre_depends_order(server, tmp_path):
    res = resolve(server, tmp_path, ["app"])
    assert names(res) == {"app=3.0", "libfoo1=2.0-1", "libc6=2.36-9", "mawk=1.3.4-3", "tool-core=1.0"}
    order = [c.name for c in res.order]
    assert order.index("tool-core") < order.index("app") and order.index("libc6") < order.index("libfoo1")


def test_virtual_dependency_takes_the_first_alternative_and_versioned_provides(server, tmp_path):
    assert names(resolve(server, tmp_path, ["mailer"])) == {"mailer=8.1", "exim-ish=4.96"}
    assert names(resolve(server, tmp_path, ["bar-plugin"])) == {"bar-plugin=1.0", "libbar3=3.1"}


def test_minimal_base_holds_required_and_essential(server, tmp_path):
    res = resolve(server, tmp_path, ["app"], base="minimal")
    assert names(res) == {"app=3.0", "libfoo1=2.0-1", "tool-core=1.0"}  # libc6 and mawk are in the base


def test_pin_and_unsatisfiable_pin_show_the_chain(server, tmp_path):
    assert names(resolve(server, tmp_path, ["libfoo1=1.0-1", "foo-utils=1.0-1"], base="minimal")) == {
        "libfoo1=1.0-1",
        "foo-utils=1.0-1",
    }
    with pytest.raises(ResolutionError, match=r"app 3.0 depends on libfoo1 \(>= 2.0\)"):
        resolve(server, tmp_path, ["libfoo1=1.0-1", "app"])
    with pytest.raises(ResolutionError, match=r"libfoo1: version 9.9 is not available \(available: 2.0-1, 1.0-1\)"):
        resolve(server, tmp_path, ["libfoo1=9.9"])


def test_missing_dependency_names_the_chain(server, tmp_path):
    chain = r"cannot install wants-broken: wants-broken 1.0 -> broken 1.0 depends on missing-lib \(>= 2\)"
    with pytest.raises(ResolutionError, match=chain + r", missing-lib is in no configured source"):
        resolve(server, tmp_path, ["wants-broken"])


def test_unknown_and_ambiguous_virtual_requests(server, tmp_path):
    with pytest.raises(ResolutionError, match="no-such-pkg is not in any configured apt source"):
        resolve(server, tmp_path, ["no-such-pkg"])
    with pytest.raises(ResolutionError, match="awk is a virtual package provided by gawk, mawk"):
        resolve(server, tmp_path, ["awk"])
    with pytest.raises(ResolutionError, match="i386-only is not in any configured apt source"):
        resolve(server, tmp_path, ["i386-only"])


def test_every_unknown_package_is_reported_at_once_with_its_place_and_a_did_you_mean(server, tmp_path):
    labels = ("bundle.yml:7: debs.packages[0]", "bundle.yml:8: debs.packages[1]", "bundle.yml:9: debs.packages[2]")
    with pytest.raises(ResolutionError) as err:
        resolve(server, tmp_path, ["foo-util", "app", "libfooo1"], labels=labels)
    lines = str(err.value).splitlines()
    assert lines[0] == "2 requested packages cannot be installed:"
    assert lines[1].strip().startswith("bundle.yml:7: debs.packages[0]: package foo-util is not in any configured")
    assert lines[1].endswith("did you mean foo-utils?)")
    assert lines[2].strip().startswith("bundle.yml:9: debs.packages[2]: package libfooo1")
    assert "did you mean libfoo1" in lines[2] and len(lines) == 3


def test_conflicting_request_is_refused(server, tmp_path):
    with pytest.raises(ResolutionError, match="conflicts with"):
        resolve(server, tmp_path, ["exim-ish", "postfix-ish"])


def test_status_base_upgrades_like_apt(server, tmp_path):
    status = status_file(
        tmp_path,
        [
            ("libc6", "2.36-9", ""),
            ("libfoo1", "1.0-1", "Source: foo\n"),
            ("libfoo-dev", "1.0-1", "Source: foo\nDepends: libfoo1 (= 1.0-1)\n"),
            ("foo-utils", "1.0-1", "Source: foo\nDepends: libfoo1 (>= 1.0)\n"),
            ("mawk", "1.3.4-3", "Provides: awk\n"),
        ],
    )
    res = resolve(server, tmp_path, ["app"], base=status)
    # libfoo1 must be upgraded for app; libfoo-dev (= old) and foo-utils (same source) follow it
    assert names(res) == {"app=3.0", "tool-core=1.0", "libfoo1=2.0-1", "libfoo-dev=2.0-1", "foo-utils=2.0-1"}
    assert res.upgrades == {"libfoo1": "1.0-1", "libfoo-dev": "1.0-1", "foo-utils": "1.0-1"}
    assert names(resolve(server, tmp_path, ["mawk"], base=status)) == set()  # already the newest
    held = status_file(tmp_path, [("libc6", "2.36-9", ""), ("libfoo1", "1.0-1", "Source: foo\n")])
    held_path = Path(held)
    held_path.write_text(held_path.read_text().replace("libfoo1\nStatus: install", "libfoo1\nStatus: hold"))
    with pytest.raises(ResolutionError, match=r"libfoo1 is held at 1.0-1"):
        resolve(server, tmp_path, ["app"], base=held)


def test_cycles_are_kept_together_and_recommends_are_optional(server, tmp_path):
    res = resolve(server, tmp_path, ["cyc-a"])
    assert [c.name for c in res.order] == ["libc6", "cyc-a", "cyc-b"]
    assert names(resolve(server, tmp_path, ["docs"])) == {"docs=1.0"}
    assert "gawk=1:5.2.1-2" in names(resolve(server, tmp_path, ["docs"], with_recommends=True))


def test_lock_part_records_trust_paths_and_runtime(server, tmp_path):
    res = resolve(server, tmp_path, ["app", "mailer"])
    part = lock_part(res, "none", runtime_names=["mailer"])
    by_name = {a.name: a for a in part.artifacts}
    a = by_name["libfoo1"]
    assert a.kind == "deb" and a.trust == "apt-release-signature" and a.path == "debs/libfoo1_2.0-1_amd64.deb"
    assert a.url == server[0].url("/pool/main/l/libfoo1_2.0-1_amd64.deb") and a.meta["source"] == "foo"
    assert part.section["install_order"][-1] in {by_name["app"].path, by_name["mailer"].path}
    assert part.section["runtime"] == [by_name["exim-ish"].path, by_name["mailer"].path]


def test_lock_part_records_each_debs_resolved_dependencies_and_the_sbom_carries_them(server, tmp_path):
    from bundler.core.lock import Lock
    from bundler.core.sbom import build_sbom

    res = resolve(server, tmp_path, ["app", "mailer", "cyc-a", "bar-plugin"])
    part = lock_part(res, "none")
    depends = {a.name: a.meta.get("depends", []) for a in part.artifacts}
    assert depends["app"] == ["libfoo1", "mawk", "tool-core"]  # awk by mawk's Provides, Pre-Depends too
    assert depends["mailer"] == ["exim-ish"]  # both alternatives name the one package installed
    assert depends["bar-plugin"] == ["libbar3"]  # libbar2 provides the abi in a version too old
    assert depends["cyc-a"] == ["cyc-b"] and depends["cyc-b"] == ["cyc-a", "libc6"]
    assert depends["libc6"] == [] and "depends" not in {k for a in part.artifacts if a.name == "libc6" for k in a.meta}
    lock = Lock("edges", {"os": "debian", "codename": "bookworm", "arch": "amd64"}, part.artifacts)
    edges = {d["ref"]: d["dependsOn"] for d in build_sbom(lock, "ab" * 32)["dependencies"]}
    paths = {a.name: a.path for a in part.artifacts}
    assert edges[paths["app"]] == sorted(paths[n] for n in ("libfoo1", "mawk", "tool-core"))


def test_stages_let_dpkg_install_pre_depends(server, tmp_path):
    """dpkg refuses a Pre-Depends that is only unpacked in the same call; stage by stage it installs."""
    if not shutil.which("dpkg"):
        pytest.skip("needs dpkg")
    res = resolve(server, tmp_path, ["app"])
    part = lock_part(res, "none")
    stages = part.section["stages"]
    assert stages[-1] == ["debs/app_3.0_amd64.deb"] and "debs/tool-core_1.0_amd64.deb" in stages[0]
    urls = {a.path: a.url for a in part.artifacts}
    root = tmp_path / "root"
    for d in ("info", "updates", "triggers"):
        (root / "var/lib/dpkg" / d).mkdir(parents=True)
    for f in ("status", "available"):
        (root / "var/lib/dpkg" / f).touch()
    for stage in stages:
        debs = []
        for path in stage:
            deb = tmp_path / path
            deb.parent.mkdir(exist_ok=True)
            deb.write_bytes(requests.get(urls[path], timeout=10).content)
            debs.append(str(deb))
        cmd = ["dpkg", f"--root={root}", "--force-script-chrootless", "--log=/dev/null", "-i", *debs]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    status = (root / "var/lib/dpkg/status").read_text()
    assert status.count("Status: install ok installed") == len(part.artifacts)
