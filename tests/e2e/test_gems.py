"""End to end: the bosh_cli replica resolved, locked, downloaded and installed offline by real RubyGems.

``bosh-bundle lock`` resolves ``bosh_cli ~> 1.3147.0`` against a compact-index replica of real
``.gem`` files for this machine's Ruby (3.1.2 on Debian 12, so RubyGems' own required-Ruby check
holds at install time); every locked gem is downloaded by ``bundler.net.download`` (sha256, size) and its
``metadata.gz`` checked against the lock; then
``gem install --local --no-document bosh_cli-*.gem`` runs in the downloaded ``gems/`` directory
with no network (``unshare --net``), into an empty GEM_HOME, without ``--force``.  ``gem list``
must show exactly the locked versions.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from bundler.cli import main
from bundler.core.contents import check_contents
from bundler.core.lock import read_lock
from bundler.net.download import fetch_all
from tests.support.gemrepo import BOSH_CLI_CLOSURE, build_bosh_cli_replica, serve_gem_replica

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("gem") is None, reason="needs gem and ruby (Debian package 'ruby')"),
]


def _system_ruby() -> tuple[str, str]:
    out = subprocess.run(["ruby", "-e", "print RUBY_VERSION, ' ', Gem::VERSION"], capture_output=True, text=True)
    ruby, rubygems = out.stdout.split()
    return ruby, rubygems


def _offline(argv: list[str], **kw) -> subprocess.CompletedProcess:
    if subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare --net is not permitted here")
    return subprocess.run(["unshare", "--net", "--", *argv], capture_output=True, text=True, timeout=600, **kw)


def test_bosh_cli_closure_installs_offline_from_the_locked_gems(tmp_path_factory, tmp_path):
    repo = build_bosh_cli_replica(tmp_path_factory.getbasetemp())
    ruby, rubygems = _system_ruby()
    with serve_gem_replica(repo) as srv:
        (tmp_path / "bundle.yml").write_text(
            "name: gems-e2e\ntarget: {os: debian, release: '12', codename: bookworm}\n"
            f"gems:\n  source: {srv.base_url}\n  ruby: {ruby}\n  rubygems: {rubygems}\n"
            "  platforms: [ruby, x86_64-linux]\n  requirements:\n    bosh_cli: '~> 1.3147.0'\n"
        )
        assert main(["lock", "--spec", str(tmp_path / "bundle.yml"), "--cache", str(tmp_path / "cache")]) == 0
        lock = read_lock(tmp_path / "bundle.lock")
        gems = lock.by_kind("gem")
        assert {a.name: a.version for a in gems} == BOSH_CLI_CLOSURE
        fetched = fetch_all(gems, tmp_path / "cache")
        assert sorted(fetched.downloaded) == sorted(a.path for a in gems)
        payload = tmp_path / "payload"
        for a in gems:
            dest = payload / a.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fetched.files[a.path], dest)
            assert check_contents(dest, a) == []

    gem_home = tmp_path / "gem_home"
    gem_home.mkdir()
    env = {
        **os.environ,
        "GEM_HOME": str(gem_home),
        "GEM_PATH": str(gem_home),
        "HOME": str(tmp_path),
        "GEM_SPEC_CACHE": str(tmp_path / "spec_cache"),
    }
    env.pop("GEMRC", None)
    gems_dir = payload / "gems"
    bosh_cli = [p.name for p in gems_dir.glob("bosh_cli-*.gem")]
    done = _offline(["gem", "install", "--local", "--no-document", *bosh_cli], cwd=gems_dir, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Successfully installed bosh_cli-1.3147.0" in done.stdout

    listed = _offline(["gem", "list", "--local"], env=env)
    assert listed.returncode == 0, listed.stderr
    installed: dict[str, list[str]] = {}
    for line in listed.stdout.splitlines():
        name, _, versions = line.partition(" (")
        own = [v.strip() for v in versions.rstrip(")").split(",") if v.strip() and "default:" not in v]
        if own:
            installed[name] = own
    assert installed == {name: [version] for name, version in BOSH_CLI_CLOSURE.items()}
    specs = sorted(p.name for p in (gem_home / "specifications").glob("*.gemspec"))
    assert specs == sorted(f"{a.path.removeprefix('gems/').removesuffix('.gem')}.gemspec" for a in gems)
