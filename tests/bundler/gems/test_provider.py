"""The gem resolver against a real compact-index replica of real ``.gem`` files (built by ``gem build``).

Target as in the guide: Ruby 2.1.6 with RubyGems 2.2.3, platforms ruby and x86_64-linux.
"""

import pytest

from bundler.core.errors import ResolutionError
from bundler.core.gem.version import Version
from bundler.gems.compactindex import CompactIndex
from bundler.gems.provider import RubyTarget, resolve_gems
from bundler.net.http import Http
from tests.bundler.conftest import needs_gem

pytestmark = needs_gem

GUIDE = RubyTarget(Version("2.1.6"), Version("2.2.3"), ("ruby", "x86_64-linux"))


def _resolve(gem_server, *requests, target=GUIDE, cache=None):
    index = CompactIndex(Http(retries=0), gem_server.base_url, cache)
    resolved = resolve_gems(index, [(r.partition(":")[0], r.partition(":")[2]) for r in requests], target)
    return {e.name: e.full_name for e in resolved.gems}, resolved


def test_newest_releases_that_need_a_newer_ruby_or_rubygems_are_passed_over(gem_server):
    chosen, _ = _resolve(gem_server, "oldruby", "oldgems")
    # oldruby 3.0.0 needs ruby >= 2.7, 2.0.0 needs >= 2.2; 1.5.0 (>= 2.0, < 2.7.dev) fits 2.1.6
    # oldgems 2.0.0 needs rubygems >= 2.5.0; the target has 2.2.3
    assert chosen == {"oldruby": "oldruby-1.5.0", "oldgems": "oldgems-1.0.0"}
    newer = RubyTarget(Version("3.1.2"), Version("3.3.15"))
    assert _resolve(gem_server, "oldruby", "oldgems", target=newer)[0] == {
        "oldruby": "oldruby-3.0.0",
        "oldgems": "oldgems-2.0.0",
    }


def test_a_diamond_takes_the_newest_base_both_sides_accept(gem_server):
    chosen, resolved = _resolve(gem_server, "top")
    assert chosen == {"top": "top-1.0.0", "left": "left-1.0.0", "right": "right-1.0.0", "base": "base-1.5.0"}
    order = resolved.install_order
    assert order.index("base") < order.index("left") < order.index("top")
    assert "rspec-replica" not in chosen  # a development dependency is not in the index


def test_a_conflict_is_resolved_by_backtracking_to_an_older_release(gem_server):
    chosen, _ = _resolve(gem_server, "bt")
    # y 2.0.0 pins w 2.0.0, but every z needs w ~> 1.0: y goes back to 1.0.0
    assert chosen == {"bt": "bt-1.0.0", "y": "y-1.0.0", "z": "z-2.0.0", "w": "w-1.0.0"}


def test_prereleases_only_when_a_requirement_names_one(gem_server):
    assert _resolve(gem_server, "pre")[0] == {"pre": "pre-1.0.0"}
    assert _resolve(gem_server, "pre:>= 2.0.a")[0] == {"pre": "pre-2.0.0.rc1"}


def test_a_build_for_an_accepted_platform_is_preferred_and_others_never_taken(gem_server):
    assert _resolve(gem_server, "natv")[0] == {"natv": "natv-1.0.0-x86_64-linux"}
    ruby_only = RubyTarget(GUIDE.ruby, GUIDE.rubygems, ("ruby",))
    assert _resolve(gem_server, "natv", target=ruby_only)[0] == {"natv": "natv-1.0.0"}


def test_unsatisfiable_names_both_requirements_and_who_asked(gem_server):
    with pytest.raises(ResolutionError) as exc:
        _resolve(gem_server, "broken")
    msg = str(exc.value)
    assert "p ~> 1.0 (required by broken-1.0.0)" in msg
    assert "p >= 2.0 (required by q-1.0.0)" in msg


def test_a_gem_no_release_of_which_runs_on_the_target_ruby_says_so(gem_server):
    with pytest.raises(ResolutionError, match=r"target's Ruby is 2\.1\.6, but: ruby >= 3\.3 \(required by newonly"):
        _resolve(gem_server, "newonly")


def test_unknown_gems_are_named_with_who_asked(gem_server):
    with pytest.raises(ResolutionError, match=r"gem 'nosuch' does not exist on http://127\.0\.0\.1:\d+ \(requested"):
        _resolve(gem_server, "nosuch:~> 1.0")
    with pytest.raises(ResolutionError, match=r"gem 'nosuchgem' does not exist .*required by dangling-1\.0\.0"):
        _resolve(gem_server, "dangling")


def test_no_release_for_the_accepted_platforms_lists_what_the_source_has(gem_server):
    java_only = RubyTarget(GUIDE.ruby, GUIDE.rubygems, ("java",))
    with pytest.raises(ResolutionError) as exc:
        _resolve(gem_server, "top", target=java_only)
    assert str(exc.value) == (
        "cannot resolve the gems: no release of top fits top >= 0 (required by the request); "
        "the source has 1.0.0 (platforms accepted: java)"
    )
    with pytest.raises(
        ResolutionError, match=r"no release of natv fits natv ~> 2\.0 .*has 1\.0\.0, 1\.0\.0-x86_64-linux"
    ):
        _resolve(gem_server, "natv:~> 2.0")
