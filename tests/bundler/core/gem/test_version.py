"""Gem::Version and Gem::Requirement in Python agree with the real RubyGems on a table of cases.

The expected answers are not written here: one ``ruby`` process (Debian's ruby package) evaluates
the whole table with RubyGems' own classes and the test compares every answer.
"""

import itertools
import json
import shutil
import subprocess

import pytest

from bundler.core.errors import InputError
from bundler.core.gem.version import Requirement, Version, is_correct

VERSIONS = [
    "0",
    "0.0",
    "1",
    "1.0",
    "1.0.0",
    "1.0.0.0",
    "1.0.1",
    "1.1",
    "1.2.3",
    "1.10",
    "1.9.9",
    "2",
    "2.0.0",
    "1.3147.0",
    "1.3147.1",
    "1.3148.0",
    "1.7",
    "1.7.7",
    "1.8.3",
    "1.0.a",
    "1.0.a1",
    "1.0.a10",
    "1.0.a2",
    "1.0.b1",
    "1.0.A",
    "1.a",
    "1.0.0.a",
    "1.0.rc1",
    "1.0-rc1",
    "1.0.pre.rc1",
    "1.0.0.pre",
    "1.0.0-pre.1",
    "1.0.0.beta.2",
    "1.0.0.beta.10",
    "2.0.0.preview1",
    "3.2.dev",
    "3.1.2",
    "2.1.6",
    "2.7.0",
    "0.9.0",
    "0.9.10",
    "1.a.2",
    "1.a.2.0",
    " 1.2 ",
    "",
    "1.2.3.4.5.6",
    "10.0.0",
    "9.9.9",
    "1.0.0.rc.1",
    "1.0.z",
    "1.0.0.0.1",
]
MALFORMED = ["junk", "1..2", "1.2.", ".1", "1 2", "1.0-", "-1", "1_0", "1.0.0-beta+exp", "a1"]
REQUIREMENTS = [
    ["~> 1.3147.0"],
    ["~> 1.3147"],
    ["~> 1"],
    ["~> 1.0.a"],
    ["~> 1.0.0.a"],
    ["~> 2.0.0.preview1"],
    ["= 1.0"],
    ["1.0"],
    ["!= 1.0"],
    ["> 1.0"],
    ["< 1.0"],
    [">= 1.0"],
    ["<= 1.0"],
    [">= 0"],
    [">= 0.a"],
    ["~> 0.9.0"],
    ["~> 1.7"],
    ["~> 1.2.3"],
    [">= 1.0", "< 2"],
    ["> 1.0.a", "< 1.0"],
    [">= 2.1.0"],
    [">= 2.2", "< 2.7.dev"],
    ["< 3.2.dev", ">= 2.6"],
    ["~> 1.0", "!= 1.0.1"],
    ["=1.0.rc1"],
    [">=1.0.0.pre"],
    ["~> 1.0.0.pre"],
    ["<= 1.a"],
    ["~>1.9.9"],
]
BAD_REQUIREMENTS = ["=> 1.0", "~ 1.0", ">= junk", "1.0 <", "== 1", ">>1"]

RUBY = r"""
require "json"
t = JSON.parse($stdin.read)
v = ->(s) { Gem::Version.new(s) }
out = {}
out["correct"] = (t["versions"] + t["malformed"]).map { |s| Gem::Version.correct?(s) }
out["info"] = t["versions"].map { |s|
  x = v[s]; [x.to_s, x.prerelease?, x.release.to_s, x.bump.to_s, x.canonical_segments.map(&:to_s)] }
out["compare"] = t["versions"].product(t["versions"]).map { |a, b| v[a] <=> v[b] }
out["satisfied"] = t["requirements"].map { |r|
  q = Gem::Requirement.new(r)
  [q.to_s, q.prerelease?, t["versions"].map { |s| q.satisfied_by?(v[s]) },
   t["versions"].map { |s| Gem::Dependency.new("x", r).match?("x", s) }] }
out["bad"] = t["bad"].map { |r|
  begin; Gem::Requirement.new(r); false; rescue Gem::Requirement::BadRequirementError; true; end }
puts JSON.generate(out)
"""


@pytest.fixture(scope="module")
def rubygems_answers():
    if shutil.which("ruby") is None:
        pytest.skip("ruby is not installed (Debian package 'ruby')")
    table = {"versions": VERSIONS, "malformed": MALFORMED, "requirements": REQUIREMENTS, "bad": BAD_REQUIREMENTS}
    done = subprocess.run(
        ["ruby", "-e", RUBY], input=json.dumps(table), capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(done.stdout)


def test_well_formed_versions_match_rubygems(rubygems_answers):
    assert [is_correct(s) for s in VERSIONS + MALFORMED] == rubygems_answers["correct"]
    for s in MALFORMED:
        with pytest.raises(InputError, match="malformed gem version"):
            Version(s)


def test_version_string_prerelease_release_bump_and_canonical_form_match_rubygems(rubygems_answers):
    ours = []
    for s in VERSIONS:
        v = Version(s)
        ours.append([str(v), v.prerelease, str(v.release()), str(v.bump()), [str(x) for x in v.canonical]])
    assert ours == rubygems_answers["info"]


def test_every_pair_of_versions_compares_as_in_rubygems(rubygems_answers):
    ours = [Version(a).compare(Version(b)) for a, b in itertools.product(VERSIONS, VERSIONS)]
    mismatches = [
        (a, b, o, r)
        for (a, b), o, r in zip(itertools.product(VERSIONS, VERSIONS), ours, rubygems_answers["compare"], strict=True)
        if o != r
    ]
    assert mismatches == []


def test_requirements_are_satisfied_exactly_as_in_rubygems(rubygems_answers):
    for reqs, (text, pre, satisfied, matched) in zip(REQUIREMENTS, rubygems_answers["satisfied"], strict=True):
        r = Requirement.parse(*reqs)
        assert (str(r), r.prerelease) == (text, pre), reqs
        assert [r.satisfied_by(Version(s)) for s in VERSIONS] == satisfied, reqs
        assert [r.allows(Version(s)) for s in VERSIONS] == matched, reqs


def test_malformed_requirements_are_refused_like_rubygems(rubygems_answers):
    assert all(rubygems_answers["bad"])
    for text in BAD_REQUIREMENTS:
        with pytest.raises(InputError, match="malformed gem requirement"):
            Requirement.parse(text)


def test_compact_index_and_gemspec_joins_read_the_same():
    assert Requirement.parse("< 2.0&>= 1.0") == Requirement.parse("< 2.0, >= 1.0")
    assert str(Requirement.parse()) == ">= 0"
    assert Version("1.0") == Version("1") and hash(Version("1.0")) == hash(Version("1"))
