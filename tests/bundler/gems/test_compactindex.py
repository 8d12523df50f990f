"""The compact index client against a replica: info lines parsed (a bad one named), info files cached
while their MD5 holds, ``/versions`` read again only from where the cache ends."""

import base64
import hashlib

import pytest

from bundler.core.errors import ResolutionError
from bundler.core.gem.version import Version
from bundler.gems.compactindex import CompactIndex
from bundler.gems.provider import RubyTarget, resolve_gems
from bundler.net.http import Http
from tests.bundler.conftest import needs_gem

pytestmark = needs_gem

GUIDE = RubyTarget(Version("2.1.6"), Version("2.2.3"), ("ruby", "x86_64-linux"))


def _resolve_top(gem_server):
    return resolve_gems(CompactIndex(Http(retries=0), gem_server.base_url), [("top", "")], GUIDE)


def test_a_malformed_info_line_names_the_gem_and_the_line(gem_server):
    good = (gem_server.root / "info" / "base").read_text()
    gem_server.routes["/info/base"] = (good + "2.9.9 |checksum:nothex\n").encode()
    with pytest.raises(ResolutionError) as exc:
        _resolve_top(gem_server)
    msg = str(exc.value)
    assert "/info/base line 7" in msg and "gem 'base'" in msg and "2.9.9 |checksum:nothex" in msg
    gem_server.routes["/info/base"] = (good + "2.9.9 left:>= one|checksum:" + "0" * 64 + "\n").encode()
    with pytest.raises(ResolutionError, match=r"gem 'base' .*malformed gem requirement '>= one'"):
        _resolve_top(gem_server)


def test_info_files_are_cached_and_only_versions_is_fetched_again(gem_server, tmp_path):
    index = CompactIndex(Http(), gem_server.base_url, tmp_path)
    resolve_gems(index, [("top", "")], GUIDE)
    assert sorted(u.rsplit("/", 1)[1] for u in index.fetched) == ["base", "left", "right", "top", "versions"]
    warm = CompactIndex(Http(), gem_server.base_url, tmp_path)
    before = gem_server.bytes_sent["/versions"]
    resolve_gems(warm, [("top", "")], GUIDE)
    size = (gem_server.root / "versions").stat().st_size
    assert warm.fetched == [f"{gem_server.base_url}/versions (from byte {size - 1})"]
    assert gem_server.bytes_sent["/versions"] - before == 1  # only the last byte, to see nothing changed


def test_a_grown_versions_file_is_read_from_where_the_cache_ends(gem_server, tmp_path):
    def resolve_top():
        index = CompactIndex(Http(), gem_server.base_url, tmp_path)
        return {e.name: str(e.version) for e in resolve_gems(index, [("top", "")], GUIDE).gems}, index

    assert resolve_top()[0]["base"] == "1.5.0"
    old = (gem_server.root / "versions").read_bytes()
    info = (gem_server.root / "info" / "base").read_text() + "1.9.0 |checksum:" + "9" * 64 + "\n"
    appended = f"base 1.9.0 {hashlib.md5(info.encode()).hexdigest()}\n".encode()
    gem_server.routes["/versions"] = old + appended
    gem_server.routes["/info/base"] = info.encode()
    chosen, index = resolve_top()
    assert chosen["base"] == "1.9.0"
    assert gem_server.ranges[-1] == ("/versions", f"bytes={len(old) - 1}-")
    assert f"{gem_server.base_url}/versions" not in index.fetched  # no full download
    assert (tmp_path / index.cache_dir.name / "versions").read_bytes() == old + appended

    # a gem_server that states the whole file's sha256: a joined file that does not match it is refetched
    def with_wrong_digest(handler):
        return 200, {"Repr-Digest": "sha-256=:" + base64.b64encode(b"x" * 32).decode() + ":"}, old + appended

    gem_server.routes["/versions"] = with_wrong_digest
    assert resolve_top()[1].fetched[:2] == [
        f"{gem_server.base_url}/versions (from byte {len(old + appended) - 1})",
        f"{gem_server.base_url}/versions",
    ]
