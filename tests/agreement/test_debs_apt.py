"""Agreement with apt, the oracle: ``bosh-bundle debs resolve --base STATUS`` against the ``Inst`` lines
of ``apt-get install -s --no-install-recommends`` on this machine, from the same index.

Against ``/var/lib/dpkg/status`` (this machine: apt's answer includes upgrades of what is installed) and
against an empty status file (``--base none``: the whole closure), given to apt as
``-o Dir::State::status=FILE``.  The name=version sets must be equal.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bundler.apt.client import AptClient
from bundler.cli import main
from bundler.net.http import Http

pytestmark = [pytest.mark.network, pytest.mark.slow]

STATUS = "/var/lib/dpkg/status"
GUIDE = (
    "build-essential zlib1g-dev openssl libxslt1-dev libxml2-dev libssl-dev libreadline8 libreadline-dev "
    "libyaml-dev libsqlite3-dev sqlite3 libpq-dev default-libmysqlclient-dev"
)
RUNTIME = "python3 python3-yaml python3-requests python3-tqdm python3-debian python3-py7zr"
SETS_ON_STATUS = [
    "build-essential",
    "libssl-dev",
    "libpq-dev",
    "default-libmysqlclient-dev",
    "ruby-dev",
    "python3",
    "libz-dev",  # a virtual package with one provider: apt selects zlib1g-dev
    "bsd-mailx",  # default-mta | mail-transport-agent: alternatives and a virtual package
    "libxslt1-dev",
    "libxml2-dev",
    "libsqlite3-dev sqlite3",
    "curl libcurl4-openssl-dev",
    "nginx",
    "postgresql-client",
    "gawk",  # provides awk
    "imagemagick",
    "rsyslog",  # provides system-log-daemon
    "exim4",  # provides mail-transport-agent
    "default-jdk-headless",
    "libglib2.0-dev",
    "systemd",
    "libssl-doc",
    "mariadb-client",
    RUNTIME,
    GUIDE,
]
SETS_ON_NOTHING = [GUIDE, "ruby-dev", "bsd-mailx", "default-mta", "python3-pip python3-venv", RUNTIME]
_INST = re.compile(r"^Inst (\S+) (?:\[\S+\] )?\((\S+) ", re.M)


def apt_lists_match(sources) -> bool:
    """Does apt's own copy of each InRelease carry the same Date as the archive's current one?"""
    client = AptClient(Http(), None)
    for source in sources:
        for suite in source.suites:
            mangled = source.url.split("://", 1)[-1].replace("/", "_")
            local = Path(f"/var/lib/apt/lists/{mangled}_dists_{suite}_InRelease")
            if not local.exists():
                return False
            date = re.search(r"^Date: (.*)$", local.read_text(errors="replace"), re.M)
            if not date or client.release(source, suite).fields.get("Date") != date.group(1).strip():
                return False
    return True


@pytest.fixture(scope="module")
def same_index(debian_archive):
    if not shutil.which("apt-get") or not Path(STATUS).exists():
        pytest.skip("needs apt-get and a dpkg status file")
    if not apt_lists_match(debian_archive):
        proc = subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True)
        if proc.returncode != 0 or not apt_lists_match(debian_archive):
            pytest.skip(
                f"apt's lists differ from the archive and 'apt-get update' did not fix it: {proc.stderr[-200:]}"
            )
    return debian_archive


def apt_says(packages: str, status: str) -> set[str]:
    proc = subprocess.run(
        [
            "apt-get",
            "install",
            "-s",
            "--no-install-recommends",
            "-o",
            f"Dir::State::status={status}",
            *packages.split(),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return {f"{n}={v}" for n, v in _INST.findall(proc.stdout)}


def we_say(packages: str, base: str, cache: Path, capsys) -> set[str]:
    code = main(["debs", "resolve", "--base", base, "--cache", str(cache), *packages.split()])
    out, err = capsys.readouterr()
    assert code == 0, err
    return set(out.split())


def oldest_pin(package: str, also: str) -> str:
    """``package=V also=V`` for the oldest version of ``package`` the archive has (a pinned downgrade)."""
    out = subprocess.run(["apt-cache", "madison", package], capture_output=True, text=True).stdout
    versions = [line.split("|")[1].strip() for line in out.splitlines() if line.count("|") >= 2]
    return f"{package}={versions[-1]} {also}={versions[-1]}" if versions else package


def test_agrees_with_apt_get_simulate(same_index, tmp_path_factory, capsys):
    cache = tmp_path_factory.mktemp("cache")
    empty = tmp_path_factory.mktemp("base") / "status"
    empty.write_text("")
    pinned = oldest_pin("libssl3", "libssl-dev")
    cases = [(s, STATUS) for s in [*SETS_ON_STATUS, pinned]] + [(s, str(empty)) for s in [*SETS_ON_NOTHING, pinned]]
    disagreements = []
    for packages, status in cases:
        ours = we_say(packages, STATUS if status == STATUS else "none", cache, capsys)
        theirs = apt_says(packages, status)
        if ours != theirs:
            disagreements.append(f"{packages} on {status}: only ours {ours - theirs}, only apt {theirs - ours}")
    agreed = len(cases) - len(disagreements)
    print(f"agreement with apt: {agreed}/{len(cases)} package sets")
    assert not disagreements, "\n".join(disagreements)
    assert agreed >= 20


def test_minimal_base_is_what_debootstrap_minbase_installs(same_index, minbase_tar, tmp_path, capsys):
    """Against a real ``debootstrap --variant=minbase bookworm`` root: our minimal base is its
    package set, and ``--base minimal`` agrees with apt run on its status."""
    import tarfile

    with tarfile.open(minbase_tar) as tf:
        member = tf.extractfile("./var/lib/dpkg/status")
        assert member is not None
        status = tmp_path / "status"
        status.write_bytes(member.read())
    from bundler.debs.resolve import minimal_base
    from bundler.debs.universe import load_universe, read_status

    universe = load_universe(AptClient(Http(), tmp_path / "cache"), same_index, "amd64")
    ours = {f"{n}={c.version}" for n, c in minimal_base(universe).items()}
    real = {f"{n}={c.version}" for n, c in read_status(status, "amd64").items()}
    assert ours == real
    for packages in (GUIDE, RUNTIME):
        assert we_say(packages, "minimal", tmp_path / "cache", capsys) == apt_says(packages, str(status))
