"""dpkg -i calls cut at Pre-Depends: read from the .deb files, and proven against real dpkg."""

import subprocess

from bundler.core.deb.control import control_fields
from bundler.core.deb.deb822 import parse_relations
from bundler.core.deb.stages import install_stages, stages
from tests.support.installfixtures import make_deb
from tests.support.miniroot import make_miniroot


def test_a_pre_dependency_in_the_same_call_starts_a_new_call(tmp_path):
    a = make_deb(tmp_path, "t-base", "1.0")
    b = make_deb(tmp_path, "t-pre", "1.0", pre_depends="t-base (>= 1.0)")
    c = make_deb(tmp_path, "t-top", "1.0", depends="t-pre")
    assert control_fields(b)["Pre-Depends"] == "t-base (>= 1.0)"
    assert stages([a, b, c]) == [[a], [b, c]]
    assert stages([b, c]) == [[b, c]]  # pre-dependency installed before: one call


def test_the_stages_install_where_a_single_call_fails(tmp_path):
    a = make_deb(tmp_path, "t-base", "1.0")
    b = make_deb(tmp_path, "t-pre", "1.0", pre_depends="t-base")
    one, two = make_miniroot(tmp_path / "one"), make_miniroot(tmp_path / "two")
    for root in (one, two):
        for deb in (a, b):
            (root / "tmp" / deb.name).write_bytes(deb.read_bytes())
    single = subprocess.run(["chroot", one, "dpkg", "-i", f"/tmp/{a.name}", f"/tmp/{b.name}"], capture_output=True)
    assert single.returncode != 0 and b"pre-dependency problem" in single.stderr
    for group in stages([a, b]):
        subprocess.run(
            ["chroot", two, "dpkg", "-i", *[f"/tmp/{d.name}" for d in group]], check=True, capture_output=True
        )


class P:
    """A record as the resolver hands it over: name, relations, provides."""

    def __init__(self, name, depends="", pre_depends="", provides=None):
        self.name = name
        self.pre_depends = parse_relations(pre_depends)
        self.depends = parse_relations(depends) + self.pre_depends
        self.provides = provides or {}

    def __repr__(self):
        return self.name


def test_records_get_the_earliest_stage_after_their_pre_dependencies():
    libc = P("libc6")
    minimal = P("python3-minimal", pre_depends="libc6 (>= 2.36)")
    python = P("python3", depends="libc6", pre_depends="python3-minimal (= 3.11.2-1)")
    yaml = P("python3-yaml", depends="python3")
    zlib = P("zlib1g", depends="libc6")
    got = install_stages([libc, minimal, python, yaml, zlib])
    assert got == [[libc, zlib], [minimal], [python, yaml]]


def test_a_depends_cycle_stays_in_one_call_and_provides_count():
    a, b = P("cyc-a", depends="cyc-b"), P("cyc-b", depends="cyc-a")
    mawk, app = P("mawk", provides={"awk": None}), P("app", pre_depends="awk")
    assert install_stages([a, b, mawk, app]) == [[a, b, mawk], [app]]
    assert install_stages([]) == []
