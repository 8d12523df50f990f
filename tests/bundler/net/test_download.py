"""Downloads into the cache: parallel, resumable, verified, against a real loopback server."""

from __future__ import annotations

import hashlib
import os

import pytest

from bundler.core.errors import FetchError, IntegrityError
from bundler.net.cache import artifact_path
from bundler.net.download import FetchOptions, fetch_all, fetch_one
from bundler.net.http import Http
from tests.support.httpserver import LoopbackServer
from tests.support.synthetic import artifact, file_url, make_files

FAST = FetchOptions(jobs=4, stall_timeout=1.0, attempts=3, backoff=0.01)


@pytest.fixture
def files(tmp_path):
    return make_files(tmp_path / "srv", {"a.bin": 300_000, "b.bin": 1_000_000, "c.bin": 5})


def test_fetches_everything_in_parallel_into_the_content_addressed_cache(tmp_path, files):
    with LoopbackServer(root=tmp_path / "srv") as srv:
        arts = [artifact(n, d, srv.url(n)) for n, d in files.items()]
        result = fetch_all(arts, tmp_path / "cache", options=FAST)
        for a in arts:
            path = result.files[a.path]
            assert path == artifact_path(tmp_path / "cache", a.sha256)
            assert hashlib.sha256(path.read_bytes()).hexdigest() == a.sha256
        assert sorted(result.downloaded) == sorted(a.path for a in arts)
        # a second run re-verifies the cache and downloads nothing
        again = fetch_all(arts, tmp_path / "cache", options=FAST)
        assert sorted(again.cached) == sorted(a.path for a in arts)
        srv.wait_idle()
        assert sum(srv.bytes_sent.values()) == sum(len(d) for d in files.values())


def test_a_damaged_cache_file_is_fetched_again(tmp_path, files):
    with LoopbackServer(root=tmp_path / "srv") as srv:
        a = artifact("a.bin", files["a.bin"], srv.url("a.bin"))
        path = fetch_one(Http(), a, tmp_path / "cache", options=FAST)
        with open(path, "r+b") as f:
            f.write(bytes([files["a.bin"][0] ^ 1]))
        assert fetch_one(Http(), a, tmp_path / "cache", options=FAST).read_bytes() == files["a.bin"]
        assert srv.requests["/a.bin"] == 2


def test_dropped_connections_resume_with_range_and_no_byte_twice(tmp_path, files):
    with LoopbackServer(root=tmp_path / "srv") as srv:
        srv.faults["/b.bin"] = {"drop_after": 250_000}
        a = artifact("b.bin", files["b.bin"], srv.url("b.bin"))
        # The fault drops every response after 250 kB; each drop is progress, so the fetcher keeps
        # resuming: 250k at 0, 250k at 250k, ... until the file is complete.
        path = fetch_one(Http(), a, tmp_path / "cache", options=FAST)
        assert path.read_bytes() == files["b.bin"]
        srv.wait_idle()
        assert srv.bytes_sent["/b.bin"] == len(files["b.bin"])
        assert [r for _, r in srv.ranges] == ["bytes=250000-", "bytes=500000-", "bytes=750000-"]


def test_a_server_ignoring_range_restarts_cleanly(tmp_path, files):
    with LoopbackServer(root=tmp_path / "srv") as srv:
        a = artifact("b.bin", files["b.bin"], srv.url("b.bin"))
        part = artifact_path(tmp_path / "cache", a.sha256)
        part = part.with_name(part.name + ".part")
        part.parent.mkdir(parents=True)
        part.write_bytes(files["b.bin"][:400_000])
        srv.faults["/b.bin"] = {"ignore_range": True}
        path = fetch_one(Http(), a, tmp_path / "cache", options=FAST)
        assert path.read_bytes() == files["b.bin"]
        assert not part.exists()
        srv.wait_idle()
        assert srv.bytes_sent["/b.bin"] == len(files["b.bin"])


def test_wrong_bytes_are_refused_naming_url_and_both_checksums(tmp_path, files):
    with LoopbackServer(root=tmp_path / "srv") as srv:
        srv.faults["/a.bin"] = {"corrupt": True}
        a = artifact("a.bin", files["a.bin"], srv.url("a.bin"))
        with pytest.raises(IntegrityError) as err:
            fetch_one(Http(), a, tmp_path / "cache", options=FAST)
        got = hashlib.sha256(bytes([files["a.bin"][0] ^ 0xFF]) + files["a.bin"][1:]).hexdigest()
        msg = str(err.value)
        assert srv.url("a.bin") in msg and a.sha256 in msg and got in msg
        dest = artifact_path(tmp_path / "cache", a.sha256)
        assert not dest.exists() and not dest.with_name(dest.name + ".part").exists()


def test_more_bytes_than_the_lock_says_is_an_integrity_error(tmp_path, files):
    with LoopbackServer(root=tmp_path / "srv") as srv:
        a = artifact("a.bin", files["a.bin"][:1000], srv.url("a.bin"))
        with pytest.raises(IntegrityError, match="1001 bytes"):
            fetch_one(Http(), a, tmp_path / "cache", options=FAST)


def test_a_stalled_server_times_out_and_resume_finishes(tmp_path, files):
    with LoopbackServer(root=tmp_path / "srv") as srv:
        srv.faults["/a.bin"] = {"delay": 3}
        a = artifact("a.bin", files["a.bin"], srv.url("a.bin"))
        with pytest.raises(FetchError, match="gave up after 3 attempts"):
            fetch_one(Http(), a, tmp_path / "cache", options=FAST)
        srv.faults.clear()
        assert fetch_one(Http(), a, tmp_path / "cache", options=FAST).read_bytes() == files["a.bin"]


def test_errors_name_every_failed_artifact(tmp_path, files):
    with LoopbackServer(root=tmp_path / "srv") as srv:
        srv.faults["/a.bin"] = {"status": 404}
        srv.faults["/c.bin"] = {"status": 503}
        arts = [artifact(n, d, srv.url(n)) for n, d in files.items()]
        with pytest.raises(FetchError) as err:
            fetch_all(arts, tmp_path / "cache", options=FAST)
        assert "2 artifacts failed" in str(err.value)
        assert "HTTP 404" in str(err.value) and "HTTP 503" in str(err.value)
        assert artifact_path(tmp_path / "cache", arts[1].sha256).exists()  # b.bin still landed


def test_mirrors_rewrite_urls_but_the_lock_checksum_decides(tmp_path, files):
    with LoopbackServer(root=tmp_path / "srv") as srv:
        a = artifact("a.bin", files["a.bin"], "http://upstream.invalid/pool/a.bin")
        http = Http(mirrors=[("http://upstream.invalid/pool/", srv.url("/"))])
        assert fetch_one(http, a, tmp_path / "cache", options=FAST).read_bytes() == files["a.bin"]
        srv.faults["/a.bin"] = {"corrupt": True}
        with pytest.raises(IntegrityError, match="mirror"):
            fetch_one(http, a, tmp_path / "cache2", options=FAST)


def test_file_urls_are_copied_and_verified(tmp_path, files):
    a = artifact("b.bin", files["b.bin"], file_url(tmp_path / "srv" / "b.bin"))
    assert fetch_one(Http(), a, tmp_path / "cache").read_bytes() == files["b.bin"]
    (tmp_path / "srv" / "c.bin").write_bytes(b"other")
    bad = artifact("c.bin", files["c.bin"], file_url(tmp_path / "srv" / "c.bin"))
    with pytest.raises(IntegrityError, match=bad.sha256):
        fetch_one(Http(), bad, tmp_path / "cache")
    missing = artifact("x", b"x", file_url(tmp_path / "nope"))
    with pytest.raises(FetchError, match="cannot read"):
        fetch_one(Http(), missing, tmp_path / "cache")
    assert os.listdir(tmp_path / "cache" / "sha256")


def test_two_builds_sharing_a_cache_download_once(tmp_path, files):
    import threading

    with LoopbackServer(root=tmp_path / "srv") as srv:
        srv.faults["/b.bin"] = {"rate": 2_000_000}
        a = artifact("b.bin", files["b.bin"], srv.url("b.bin"))
        results = []

        def build():
            results.append(fetch_one(Http(), a, tmp_path / "cache", options=FAST).read_bytes())

        threads = [threading.Thread(target=build) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [files["b.bin"]] * 2
        assert srv.requests["/b.bin"] == 1  # the second waited on the .part lock, then found the file
