"""dpkg -i calls cut at Pre-Depends: read from the .deb files, and proven against real dpkg."""

import subprocess

from bundler.core.deb.stages import control_fields, relation_names, stages
from tests.support.installfixtures import make_deb
from tests.support.miniroot import make_miniroot


def test_relation_names_drop_versions_alternatives_and_arch_qualifiers():
    assert relation_names("a (>= 1.0), b:any | c, d [amd64]") == {"a", "b", "c", "d"}


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
