"""The spec loader: the shipped specs load, and every kind of mistake is reported precisely."""

import pytest

from bundler.core.errors import InputError
from bundler.spec import DebianSourceRef, load_spec
from tests.support.paths import REPO

ROOT = REPO


def test_reference_spec_loads_with_the_guides_artifacts():
    spec = load_spec(ROOT / "bundle.yml")
    assert spec.target.codename == "trusty"
    assert "libmysqlclient-dev" in spec.debs.packages
    assert spec.ruby.source.sha256 == "1e1362ae7427c91fa53dc9c05aee4ee200e2d7d8970a891c5bd76bee28d28be4"
    assert spec.gems.ruby == "2.1.6" and spec.gems.rubygems == "2.2.3"
    assert [r.version for r in spec.releases] == ["233", "36"]
    assert {s.variant for s in spec.stemcells} == {"light", "regular"}
    assert spec.binaries[0].sha256 is None  # bosh-init: trust on first download


def test_debian_example_uses_the_machines_apt_configuration():
    spec = load_spec(ROOT / "examples" / "debian-bookworm.yml")
    assert spec.apt.system
    assert spec.runtime.mode == "distro"
    assert spec.ruby.source == DebianSourceRef("ruby3.1", "ruby3.1_3.1.2.orig.tar.xz")


def _load(tmp_path, text):
    path = tmp_path / "bundle.yml"
    path.write_text(text)
    return load_spec(path)


def test_every_problem_is_reported_with_file_line_and_key(tmp_path):
    text = """\
target:
  os: windows
  release: "12"
  codename: bookworm
debs:
  packages: [curl, "Bad Name", 7]
  colour: blue
apt:
  sources: []
"""
    with pytest.raises(InputError) as err:
        _load(tmp_path, text)
    msg = str(err.value)
    assert f"{tmp_path / 'bundle.yml'}:2: target.os: 'windows' is not one of: ubuntu, debian" in msg
    assert ":6: debs.packages[1]: 'Bad Name' is not a package name or name=version" in msg
    assert ":7: debs.colour: unknown key (allowed here: base, packages, preferences, with_recommends)" in msg
    assert ":9: apt.sources: expected 'system'" in msg
    assert ":5: debs: needs an 'apt' section" in msg  # apt.sources was rejected, so there is none
    assert msg.startswith("6 problems:"), msg


def test_yaml_syntax_error_names_the_line(tmp_path):
    with pytest.raises(InputError, match=r"bundle.yml:2: not valid YAML"):
        _load(tmp_path, "target:\n  os: debian: x\n  release: 12\n")


def test_missing_target_and_unpinned_ruby_are_errors(tmp_path):
    text = "ruby:\n  version: 2.1.6\n  rubygems: 2.2.3\n  source:\n    url: https://example.invalid/r.tgz\n"
    with pytest.raises(InputError) as err:
        _load(tmp_path, text)
    assert "target: is required" in str(err.value)
    assert "ruby.source.sha256: is required" in str(err.value)
