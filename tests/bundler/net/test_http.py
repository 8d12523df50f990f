"""The one HTTP client: small reads are retried, capped and checked; HEAD gives a size."""

from __future__ import annotations

import hashlib

import pytest

from bundler.core.errors import FetchError, IntegrityError
from bundler.net.http import Http
from tests.support.httpserver import LoopbackServer


def test_get_bytes_checks_the_sha256_and_refuses_more_than_the_limit(tmp_path):
    body = b"x" * 5000
    with LoopbackServer(routes={"/index": body}) as srv:
        http = Http(retries=0)
        assert http.get_bytes(srv.url("/index"), sha256=hashlib.sha256(body).hexdigest(), limit=5000) == body
        with pytest.raises(IntegrityError, match="expected"):
            http.get_bytes(srv.url("/index"), sha256="0" * 64)
        with pytest.raises(IntegrityError, match="more than 4999 allowed"):
            http.get_bytes(srv.url("/index"), limit=4999)
        assert http.get_bytes(srv.url("/missing"), allow_404=True) is None


def test_get_bytes_retries_a_body_that_breaks_off(tmp_path):
    body = b"y" * 200_000
    with LoopbackServer(routes={"/index": body}) as srv:
        srv.faults["/index"] = {"drop_after": 1000}
        with pytest.raises(FetchError, match="after 2 attempts"):
            Http(retries=1, backoff=0).get_bytes(srv.url("/index"))
        assert srv.requests["/index"] == 2
        srv.faults.clear()
        assert Http(retries=1, backoff=0).get_bytes(srv.url("/index")) == body


def test_head_gives_status_and_size_and_names_the_url_when_it_cannot_connect():
    with LoopbackServer(routes={"/f": b"12345"}) as srv:
        status, headers = Http().head(srv.url("/f"))
        assert (status, headers["Content-Length"]) == (200, "5")
        assert Http().head(srv.url("/nope"))[0] == 404
        dead = srv.url("/f")
    with pytest.raises(FetchError, match="HEAD http://127.0.0.1"):
        Http().head(dead)


def test_mirrors_are_named_in_messages():
    http = Http(mirrors=[("https://upstream.invalid/", "http://127.0.0.1:9/")])
    assert http.url("https://upstream.invalid/a") == "http://127.0.0.1:9/a"
    assert http.shown("https://upstream.invalid/a") == "https://upstream.invalid/a (mirror http://127.0.0.1:9/a)"
    assert http.shown("https://elsewhere.invalid/a") == "https://elsewhere.invalid/a"


def test_get_from_reads_the_tail_of_a_file():
    with LoopbackServer(routes={"/versions": b"0123456789"}) as srv:
        status, headers, body = Http().get_from(srv.url("/versions"), 6)
        assert (status, headers["Content-Range"], body) == (206, "bytes 6-9/10", b"6789")
        with pytest.raises(IntegrityError, match="more than 3 bytes"):
            Http().get_from(srv.url("/versions"), 6, limit=3)
        dead = srv.url("/versions")
    with pytest.raises(FetchError, match="from byte 6"):
        Http().get_from(dead, 6)
