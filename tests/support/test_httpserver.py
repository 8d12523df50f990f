"""The loopback replica server behaves like a real one: ranges, faults and byte counts."""

import socket

import requests

from tests.support.httpserver import LoopbackServer


def test_serves_ranges_and_counts_bytes(tmp_path):
    (tmp_path / "f.bin").write_bytes(b"0123456789")
    with LoopbackServer(root=tmp_path, routes={"/api?v=1": b"one"}) as srv:
        assert requests.get(srv.url("/f.bin"), timeout=5).content == b"0123456789"
        r = requests.get(srv.url("/f.bin"), headers={"Range": "bytes=4-"}, timeout=5)
        assert (r.status_code, r.content) == (206, b"456789")
        assert requests.get(srv.url("/api?v=1"), timeout=5).content == b"one"
        assert requests.get(srv.url("/missing"), timeout=5).status_code == 404
        srv.faults["/f.bin"] = {"ignore_range": True}
        r = requests.get(srv.url("/f.bin"), headers={"Range": "bytes=4-"}, timeout=5)
        assert (r.status_code, r.content) == (200, b"0123456789")
        srv.wait_idle()
        assert srv.bytes_sent["/f.bin"] == 10 + 6 + 10


def test_drop_after_cuts_the_body_short(tmp_path):
    (tmp_path / "f.bin").write_bytes(b"x" * 100_000)
    with LoopbackServer(root=tmp_path) as srv:
        srv.faults["/f.bin"] = {"drop_after": 1000}
        with socket.create_connection(srv._httpd.server_address[:2], timeout=5) as conn:
            conn.sendall(b"GET /f.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            raw = b""
            while chunk := conn.recv(65536):
                raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        assert b"Content-Length: 100000" in head
        assert len(body) == 1000
        srv.wait_idle()
        assert srv.bytes_sent["/f.bin"] == 1000
