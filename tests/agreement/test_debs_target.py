"""Agreement with apt run *inside* real targets: debootstrapped trixie and bullseye minbase roots.

The oracle is ``chroot ROOT apt-get install -s --no-install-recommends`` with the root's own apt (the
root's sources point at this machine's Debian mirror and security archive, read from its apt
configuration; ``apt-get update`` runs in the root, with network).  Ours runs on the host against a
copy of the root's status file, from the same suites.  Configurations (``CONFIGS``): main only;
main+updates+security; +backports (where the mirror still carries them: not bullseye); an out-of-date
base (older versions written into a copy of the status file); holds on that base; a server-like base
(systemd-timesyncd and postfix installed by apt in the root).  Each set is compared as name=version
installs and the names apt removes; a set apt refuses must be refused by us too.  The figures are
printed per configuration.  CI runs ``QUICK`` (the guide's list, virtual packages, both removal cases,
Recommends) plus a version pin and ``name/suite`` per configuration; ``BOSH_OFFLINE_AGREEMENT_FULL=1``
runs all of ``SETS`` (apt in a chroot takes about a second a set: the full run takes ~10 minutes).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from bundler.apt.client import AptClient
from bundler.apt.system import read_system_sources
from bundler.core.errors import BundleError
from bundler.debs.resolve import DebRequest, resolve_request
from bundler.debs.universe import load_universe, read_status
from bundler.net.http import Http
from bundler.spec import AptSource
from tests.conftest import E2E_CACHE

pytestmark = [pytest.mark.network, pytest.mark.slow]

GUIDE = (
    "build-essential zlib1g-dev openssl libxslt1-dev libxml2-dev libssl-dev libreadline-dev "
    "libyaml-dev libsqlite3-dev sqlite3 libpq-dev default-libmysqlclient-dev"
)
SETS = [
    GUIDE,
    "build-essential",
    "libssl-dev",
    "libpq-dev",
    "default-libmysqlclient-dev",
    "ruby-dev",
    "python3",
    "libz-dev",  # virtual, one provider
    "bsd-mailx",  # default-mta | mail-transport-agent
    "libxml2-dev libxslt1-dev",
    "libsqlite3-dev sqlite3",
    "curl libcurl4-openssl-dev",
    "nginx",
    "postgresql-client",
    "gawk",
    "rsyslog",
    "exim4",  # on the server base: removes postfix
    "chrony",  # on the server base: removes systemd-timesyncd
    "systemd",
    "openssh-server",
    "git",
    "sudo",
    "python3-yaml python3-tqdm",
    "libglib2.0-dev",
    "ca-certificates wget",
    "+R curl",  # +R: with Recommends
    "+R git",
    "+R python3-pip",
]
# the sets run in CI (the time budget); BOSH_OFFLINE_AGREEMENT_FULL=1 runs every one of SETS
QUICK = [GUIDE, "libz-dev", "bsd-mailx", "exim4", "chrony", "+R curl"]
_INST = re.compile(r"^Inst (\S+) (?:\[\S+\] )?\((\S+) ", re.M)
_REMV = re.compile(r"^Remv (\S+)", re.M)
SOURCE_PKGS_MADE_OLD = ("glibc", "systemd", "zlib", "xz-utils", "gnutls28", "libzstd", "pam", "ncurses")
HELD = ("zlib1g", "libudev1", "libpam-modules")


@dataclass
class Config:
    name: str
    suites: tuple[str, ...]
    status: str  # file name under ROOT/var/lib/dpkg/


def _need_root_tools() -> None:
    if os.geteuid() != 0 or not shutil.which("chroot"):
        pytest.skip("needs root and chroot")


def archives() -> tuple[str, str | None, str | None]:
    """(Debian mirror URL, security archive URL or None, keyring) from this machine's apt configuration."""
    try:
        sources = read_system_sources()
    except BundleError as exc:
        pytest.skip(f"no usable apt configuration: {exc}")
    main = next((s for s in sources if any(x in ("bookworm", "trixie", "bullseye") for x in s.suites)), None)
    if main is None:
        pytest.skip("this machine's apt configuration has no Debian release suite")
    sec = next((s for s in sources if any(x.endswith("-security") for x in s.suites)), None)
    return main.url, sec.url if sec else None, main.keyring


def _url_ok(url: str) -> bool:
    try:
        return Http(retries=0).get_bytes(url, allow_404=True, limit=1 << 24) is not None
    except BundleError:
        return False


def suite_url(release: str, suite: str, mirror: str, security: str | None) -> str | None:
    url = security if suite.endswith("-security") else mirror
    if url is None or not _url_ok(f"{url}/dists/{suite}/InRelease"):
        return None
    return url


def chroot_apt(root: Path, *args: str, sources: str | None = None, status: str | None = None):
    opts = []
    if status:  # one binary cache per configuration, built once
        (root / "var/cache" / f"apt-{status}-{sources}").mkdir(exist_ok=True)
        opts += ["-o", f"Dir::Cache=/var/cache/apt-{status}-{sources}"]
    if sources:
        opts += ["-o", f"Dir::Etc::SourceList=/etc/apt/{sources}", "-o", "Dir::Etc::SourceParts=/nonexistent"]
    if status:
        opts += ["-o", f"Dir::State::status=/var/lib/dpkg/{status}"]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["chroot", str(root), "apt-get", *opts, *args], capture_output=True, text=True, env=env)


def make_old(text: str, sources: tuple[str, ...]) -> str:
    """The status text with every binary of ``sources`` at an older version (``V`` -> ``V~old``, also in
    the relations that name ``V`` exactly), as on a target not upgraded for a while."""
    out = []
    for stanza in text.strip().split("\n\n"):
        src = re.search(r"^Source: (\S+)", stanza, re.M)
        pkg = re.search(r"^Package: (\S+)", stanza, re.M)
        name = src.group(1) if src else (pkg.group(1) if pkg else "")
        ver = re.search(r"^Version: (\S+)", stanza, re.M)
        if name in sources and ver:
            v = ver.group(1)
            stanza = stanza.replace(f"Version: {v}\n", f"Version: {v}~old\n").replace(f"(= {v})", f"(= {v}~old)")
            if stanza.endswith(f"Version: {v}"):
                stanza = stanza[: -len(v)] + f"{v}~old"
        out.append(stanza)
    return "\n\n".join(out) + "\n"


def hold(text: str, names: tuple[str, ...]) -> str:
    out = []
    for stanza in text.strip().split("\n\n"):
        pkg = re.search(r"^Package: (\S+)", stanza, re.M)
        if pkg and pkg.group(1) in names:
            stanza = stanza.replace("Status: install ok installed", "Status: hold ok installed")
        out.append(stanza)
    return "\n\n".join(out) + "\n"


def server_status(root: Path, release: str) -> Path:
    """The status file after ``apt-get install systemd-timesyncd postfix`` in the root (cached)."""
    cached = E2E_CACHE / f"{release}-server-status"
    if cached.is_file():
        return cached
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=False)
    try:
        proc = chroot_apt(root, "install", "-y", "-q", "--no-install-recommends", "systemd-timesyncd", "postfix")
    finally:
        subprocess.run(["umount", str(root / "proc")], check=False)
    if proc.returncode != 0:
        pytest.skip(f"apt-get install systemd-timesyncd postfix failed in the {release} root: {proc.stderr[-300:]}")
    tmp = cached.with_suffix(".tmp")
    shutil.copyfile(root / "var/lib/dpkg/status", tmp)
    os.replace(tmp, cached)
    return cached


@pytest.fixture(scope="module", params=["trixie", "bullseye"])
def target(request, debian_archive, tmp_path_factory):
    """(release, root, configurations, host sources by suite) for one debootstrapped release."""
    _need_root_tools()
    release = request.param
    tar = request.getfixturevalue(f"{release}_minbase_tar")
    mirror, security, keyring = archives()
    root = tmp_path_factory.mktemp(f"{release}-root")
    subprocess.run(["tar", "-C", str(root), "-xf", str(tar)], check=True)
    shutil.copyfile("/etc/resolv.conf", root / "etc/resolv.conf")
    urls = {s: suite_url(release, s, mirror, security) for s in (release, f"{release}-updates",
            f"{release}-security", f"{release}-backports")}  # fmt: skip
    urls = {s: u for s, u in urls.items() if u}
    (root / "etc/apt/sources.list").write_text("".join(f"deb {u} {s} main\n" for s, u in urls.items()))
    proc = chroot_apt(root, "update", "-qq")
    if proc.returncode != 0:
        pytest.skip(f"apt-get update in the {release} root failed: {proc.stderr[-300:]}")
    dpkg = root / "var/lib/dpkg"
    base = (dpkg / "status").read_text()
    old = make_old(base, SOURCE_PKGS_MADE_OLD)
    (dpkg / "status-base").write_text(base)
    (dpkg / "status-old").write_text(old)
    (dpkg / "status-held").write_text(hold(old, HELD))
    shutil.copyfile(server_status(root, release), dpkg / "status-server")
    full = tuple(s for s in (release, f"{release}-updates", f"{release}-security") if s in urls)
    configs = [
        Config("main only", (release,), "status-base"),
        Config("main+updates+security", full, "status-base"),
        Config("out-of-date base", full, "status-old"),
        Config("holds", full, "status-held"),
        Config("server-like base", full, "status-server"),
    ]
    if f"{release}-backports" in urls:
        configs.insert(2, Config("+backports", (*full, f"{release}-backports"), "status-base"))
    for c in configs:
        (root / "etc/apt" / _list_name(c)).write_text("".join(f"deb {urls[s]} {s} main\n" for s in c.suites))
    host = {s: AptSource(u, (s,), ("main",), keyring) for s, u in urls.items()}
    yield release, root, configs, host, urls


def _list_name(c: Config) -> str:
    return "sources-" + re.sub(r"[^a-z]+", "-", c.name) + ".list"


def apt_answer(root: Path, c: Config, packages: list[str], recommends: bool):
    rec = [] if recommends else ["--no-install-recommends"]
    proc = chroot_apt(root, "install", "-s", *rec, *packages, sources=_list_name(c), status=c.status)
    if proc.returncode != 0:
        return None
    return {f"{n}={v}" for n, v in _INST.findall(proc.stdout)}, set(_REMV.findall(proc.stdout))


def our_answer(universe, client, root: Path, c: Config, packages: list[str], recommends: bool, sources):
    req = DebRequest(tuple(packages), sources, "amd64", str(root / "var/lib/dpkg" / c.status), recommends)
    try:
        res = resolve_request(req, client, universe)
    except BundleError:
        return None
    return {f"{x.name}={x.version}" for x in res.install}, set(res.removes)


def extra_sets(universe, c: Config, release: str) -> list[str]:
    """A version pin (an older version of libssl-dev and its library) and ``name/suite`` requests."""
    out = []
    for dev, lib in (("libssl-dev", "libssl3t64" if release == "trixie" else "libssl1.1"),):
        versions = [v.version for v in universe.versions(dev)]
        if len(versions) > 1 and universe.versions(lib):
            older = versions[-1]
            if any(v.version == older for v in universe.versions(lib)):
                out.append(f"{dev}={older} {lib}={older}")
        if versions:
            out.append(f"{dev}={versions[0]}")
    for suite in c.suites[1:]:
        out.append(f"curl/{suite}")
    return out


def test_agrees_with_apt_inside_the_target(target, tmp_path_factory, capsys):
    release, root, configs, host, urls = target
    cache = tmp_path_factory.mktemp("cache")
    client = AptClient(Http(), cache)
    report, disagreements = [], []
    for c in configs:
        sources = tuple(host[s] for s in c.suites)
        universe = load_universe(client, sources, "amd64")
        read_status(root / "var/lib/dpkg" / c.status, "amd64")  # the base is readable as ours
        sets = (SETS if os.environ.get("BOSH_OFFLINE_AGREEMENT_FULL") else QUICK) + extra_sets(universe, c, release)
        agreed = 0
        for text in sets:
            recommends = text.startswith("+R ")
            packages = text.removeprefix("+R ").split()
            theirs = apt_answer(root, c, packages, recommends)
            ours = our_answer(universe, client, root, c, packages, recommends, sources)
            if theirs == ours:
                agreed += 1
                continue
            if theirs is None or ours is None:
                disagreements.append(f"{release} {c.name}: {text}: apt {theirs and 'installs'}, ours {ours}")
            else:
                disagreements.append(
                    f"{release} {c.name}: {text}: only ours {sorted(ours[0] - theirs[0])} removes {sorted(ours[1])},"
                    f" only apt {sorted(theirs[0] - ours[0])} removes {sorted(theirs[1])}"
                )
        report.append(f"{release} {c.name}: {agreed}/{len(sets)} sets agree")
    with capsys.disabled():
        print("\n" + "\n".join(report))
        if disagreements:
            print("\n".join(disagreements))
    assert not disagreements, "\n".join(disagreements)


def test_minimal_base_is_the_debootstrapped_root_whatever_the_source_order(target, tmp_path_factory):
    """Our ``minimal`` base is the root's package set, with the security suite given first."""
    release, root, configs, host, urls = target
    from bundler.debs.resolve import minimal_base

    order = [s for s in (f"{release}-security", release, f"{release}-updates") if s in host]
    universe = load_universe(AptClient(Http(), tmp_path_factory.mktemp("cache")), [host[s] for s in order], "amd64")
    ours = {f"{n}={c.version}" for n, c in minimal_base(universe).items()}
    real = {f"{n}={c.version}" for n, c in read_status(root / "var/lib/dpkg/status-base", "amd64").items()}
    assert ours == real
