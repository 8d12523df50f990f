"""RubyGems' own resolver is the oracle: for this machine's Ruby, ``gem install --explain`` against
the same replica (its classic index, made by ``gem generate_index``) must pick exactly our set.

Cases: Ruby- and RubyGems-gated releases, the diamond, the backtracking conflict, platforms,
prereleases, and the bosh_cli 1.3147.0 closure.  (One known difference is left out on purpose: for an
unconstrained ``bosh_cli``, whose newest release needs a ``bosh_common`` the source does not have,
RubyGems 3.3 gives up where we back off to 1.3147.0.)
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from bundler.core.gem.version import Version
from bundler.gems.compactindex import CompactIndex
from bundler.gems.provider import RubyTarget, resolve_gems
from bundler.net.http import Http
from tests.support.gemrepo import BOSH_CLI_REPLICA, RESOLUTION_GRAPH, cached_repo, serve_gem_replica

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("gem") is None, reason="needs gem and ruby (Debian package 'ruby')"),
]


def _system() -> RubyTarget:
    out = subprocess.run(["ruby", "-e", "print RUBY_VERSION, ' ', Gem::VERSION"], capture_output=True, text=True)
    ruby, rubygems = out.stdout.split()
    return RubyTarget(Version(ruby), Version(rubygems), ("ruby", "x86_64-linux"))


def _with_classic_index(graph, base, dest):
    shutil.copytree(cached_repo(graph, base), dest)
    subprocess.run(["gem", "generate_index", "-d", str(dest)], check=True, capture_output=True, timeout=300)
    return dest


def _rubygems_explain(url: str, name: str, requirement: str, home) -> list[str]:
    home.mkdir()
    env = {**os.environ, "GEM_HOME": str(home), "GEM_PATH": str(home), "HOME": str(home)}
    env["GEM_SPEC_CACHE"] = str(home / "specs")
    argv = ["gem", "install", "--explain", "--clear-sources", "--source", url + "/", name]
    if requirement:
        argv += ["--version", requirement]
    if any(c.isalpha() for c in requirement):  # a prerelease named: let gem consider them
        argv.append("--prerelease")
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return sorted(line.strip() for line in done.stdout.splitlines()[1:] if line.strip())


@pytest.mark.parametrize(
    ("graph", "name", "requirement"),
    [
        ("cases", "oldruby", ""),
        ("cases", "oldgems", ""),
        ("cases", "top", ""),
        ("cases", "bt", ""),
        ("cases", "natv", ""),
        ("cases", "pre", ""),
        ("cases", "pre", ">= 2.0.a"),
        ("bosh_cli", "bosh_cli", "~> 1.3147.0"),
    ],
)
def test_rubygems_resolver_picks_the_same_set(graph, name, requirement, tmp_path_factory, tmp_path):
    base = tmp_path_factory.getbasetemp()
    root = base / f"classic-{graph}"
    if not root.exists():
        _with_classic_index(RESOLUTION_GRAPH if graph == "cases" else BOSH_CLI_REPLICA, base, root)
    with serve_gem_replica(root) as srv:
        index = CompactIndex(Http(), srv.base_url, None)
        ours = sorted(e.full_name for e in resolve_gems(index, [(name, requirement)], _system()).gems)
        assert ours == _rubygems_explain(srv.base_url, name, requirement, tmp_path / "home")
