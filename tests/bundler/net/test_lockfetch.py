"""Lock-time downloads: one read, hashed as it streams, kept in the cache under its sha256."""

from __future__ import annotations

import hashlib

import pytest

from bundler.core.errors import FetchError, IntegrityError
from bundler.net import lockfetch
from bundler.net.cache import artifact_path
from bundler.net.download import FetchOptions, download_to_cache
from bundler.net.http import Http
from tests.support.httpserver import LoopbackServer
from tests.support.synthetic import make_files


def _leftovers(cache):
    return list(cache.rglob("*.part"))


def test_download_to_cache_learns_the_sha256_and_resumes_a_dropped_connection(tmp_path):
    files = make_files(tmp_path / "srv", {"tool": 300_000})
    with LoopbackServer(root=tmp_path / "srv") as srv:
        srv.faults["/tool"] = {"drop_after": 100_000}
        got = download_to_cache(Http(backoff=0), srv.url("/tool"), tmp_path / "cache", what="binary tool 1")
        srv.wait_idle()
        assert srv.bytes_sent["/tool"] == 300_000  # resumed with Range, no byte twice
    assert got.sha256 == hashlib.sha256(files["tool"]).hexdigest() and got.size == 300_000
    assert got.path == artifact_path(tmp_path / "cache", got.sha256) and got.path.read_bytes() == files["tool"]
    assert _leftovers(tmp_path / "cache") == []


def test_download_to_cache_of_unknown_size_is_capped_and_leaves_nothing(tmp_path):
    make_files(tmp_path / "srv", {"big": 50_000})
    with LoopbackServer(root=tmp_path / "srv") as srv:
        with pytest.raises(IntegrityError, match="more than 10000 bytes"):
            download_to_cache(
                Http(), srv.url("/big"), tmp_path / "cache", what="binary big 1", options=FetchOptions(max_size=10_000)
            )
        with pytest.raises(FetchError, match="HTTP 404"):
            download_to_cache(Http(), srv.url("/none"), tmp_path / "cache", what="binary none 1")
    assert _leftovers(tmp_path / "cache") == []


def test_url_chunks_is_one_unbroken_read_and_capped(tmp_path):
    files = make_files(tmp_path / "srv", {"t.tgz": 200_000})
    with LoopbackServer(root=tmp_path / "srv") as srv:
        assert b"".join(lockfetch.url_chunks(Http(), srv.url("/t.tgz"))) == files["t.tgz"]
        with pytest.raises(IntegrityError, match="more than 1000 bytes"):
            b"".join(lockfetch.url_chunks(Http(), srv.url("/t.tgz"), limit=1000))
        srv.faults["/t.tgz"] = {"drop_after": 5000}
        with pytest.raises(FetchError, match="transfer failed after 5000 bytes"):
            b"".join(lockfetch.url_chunks(Http(retries=0), srv.url("/t.tgz")))
        assert srv.ranges == []  # never resumed: the consumer reads the tarball once, from byte 0


def test_cache_sink_keeps_only_what_hashes_to_its_name(tmp_path):
    data = b"release tarball"
    sha = hashlib.sha256(data).hexdigest()
    with lockfetch.cache_sink(tmp_path / "cache") as (sink, keep_as):
        sink.write(data)
        keep_as.append(lockfetch.keep(tmp_path / "cache", sha))
    assert artifact_path(tmp_path / "cache", sha).read_bytes() == data
    with pytest.raises(IntegrityError, match="not kept"), lockfetch.cache_sink(tmp_path / "cache") as (sink, keep_as):
        sink.write(b"other bytes")
        keep_as.append(lockfetch.keep(tmp_path / "cache", "0" * 64))
    with pytest.raises(RuntimeError), lockfetch.cache_sink(tmp_path / "cache") as (sink, _):
        sink.write(data)
        raise RuntimeError("the inspection failed")
    assert not artifact_path(tmp_path / "cache", "0" * 64).exists()
    assert _leftovers(tmp_path / "cache") == []


def test_a_file_changed_upstream_between_two_tries_is_downloaded_whole_not_spliced(tmp_path):
    old, new = b"A" * 200_000, b"B" * 200_000
    asked = []

    def tool(handler):  # the first answer is cut (its fault was read already); then the file changes
        asked.append((handler.headers.get("Range"), handler.headers.get("If-Range")))
        srv.faults.clear()
        return (200, {"ETag": '"v1"'}, old) if len(asked) == 1 else (200, {"ETag": '"v2"'}, new)

    with LoopbackServer(routes={"/tool": tool}) as srv:
        srv.faults["/tool"] = {"drop_after": 50_000}
        got = download_to_cache(Http(backoff=0), srv.url("/tool"), tmp_path / "cache", what="binary tool 1")
        srv.wait_idle()
        assert srv.bytes_sent["/tool"] == 50_000 + 200_000
    assert asked == [(None, None), ("bytes=50000-", '"v1"')]  # resumed only if still "v1"; it was not
    assert got.path.read_bytes() == new and got.sha256 == hashlib.sha256(new).hexdigest()
