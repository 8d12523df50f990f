"""The compact index client against a replica: info lines parsed (a bad one named), info files cached
while their MD5 holds, ``/versions`` read again only from where the cache ends."""

import base64
import hashlib
import shutil

import pytest

from bundler.core.errors import ResolutionError
from bundler.core.gem.version import Version
from bundler.gems.compactindex import CompactIndex
from bundler.gems.provider import RubyTarget, resolve_gems
from bundler.net.http import Http
from tests.support.gemrepo import RESOLUTION_GRAPH, cached_repo, serve_gem_replica

pytestmark = pytest.mark.skipif(shutil.which("gem") is None, reason="needs gem and ruby (Debian package 'ruby')")

GUIDE = RubyTarget(Version("2.1.6"), Version("2.2.3"), ("ruby", "x86_64-linux"))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return cached_repo(RESOLUTION_GRAPH, tmp_path_factory.getbasetemp())


@pytest.fixture
def server(repo):
    with serve_gem_replica(repo) as srv:
        yield srv


def _resolve_top(server):
    return resolve_gems(CompactIndex(Http(retries=0), server.base_url), [("top", "")], GUIDE)


def test_a_malformed_info_line_names_the_gem_and_the_line(server):
    good = (server.root / "info" / "base").read_text()
    server.routes["/info/base"] = (good + "2.9.9 |checksum:nothex\n").encode()
    with pytest.raises(ResolutionError) as exc:
        _resolve_top(server)
    msg = str(exc.value)
    assert "/info/base line 7" in msg and "gem 'base'" in msg and "2.9.9 |checksum:nothex" in msg
    server.routes["/info/base"] = (good + "2.9.9 left:>= one|checksum:" + "0" * 64 + "\n").encode()
    with pytest.raises(ResolutionError, match=r"gem 'base' .*malformed gem requirement '>= one'"):
        _resolve_top(server)


def test_info_files_are_cached_and_only_versions_is_fetched_again(server, tmp_path):
    index = CompactIndex(Http(), server.base_url, tmp_path)
    resolve_gems(index, [("top", "")], GUIDE)
    assert sorted(u.rsplit("/", 1)[1] for u in index.fetched) == ["base", "left", "right", "top", "versions"]
    warm = CompactIndex(Http(), server.base_url, tmp_path)
    before = server.bytes_sent["/versions"]
    resolve_gems(warm, [("top", "")], GUIDE)
    size = (server.root / "versions").stat().st_size
    assert warm.fetched == [f"{server.base_url}/versions (from byte {size - 1})"]
    assert server.bytes_sent["/versions"] - before == 1  # only the last byte, to see nothing changed


def test_a_grown_versions_file_is_read_from_where_the_cache_ends(server, tmp_path):
    def resolve_top():
        index = CompactIndex(Http(), server.base_url, tmp_path)
        return {e.name: str(e.version) for e in resolve_gems(index, [("top", "")], GUIDE).gems}, index

    assert resolve_top()[0]["base"] == "1.5.0"
    old = (server.root / "versions").read_bytes()
    info = (server.root / "info" / "base").read_text() + "1.9.0 |checksum:" + "9" * 64 + "\n"
    appended = f"base 1.9.0 {hashlib.md5(info.encode()).hexdigest()}\n".encode()
    server.routes["/versions"] = old + appended
    server.routes["/info/base"] = info.encode()
    chosen, index = resolve_top()
    assert chosen["base"] == "1.9.0"
    assert server.ranges[-1] == ("/versions", f"bytes={len(old) - 1}-")
    assert f"{server.base_url}/versions" not in index.fetched  # no full download
    assert (tmp_path / index.cache_dir.name / "versions").read_bytes() == old + appended

    # a server that states the whole file's sha256: a joined file that does not match it is refetched
    def with_wrong_digest(handler):
        return 200, {"Repr-Digest": "sha-256=:" + base64.b64encode(b"x" * 32).decode() + ":"}, old + appended

    server.routes["/versions"] = with_wrong_digest
    assert resolve_top()[1].fetched[:2] == [
        f"{server.base_url}/versions (from byte {len(old + appended) - 1})",
        f"{server.base_url}/versions",
    ]
