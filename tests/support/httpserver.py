"""A real HTTP server on 127.0.0.1 for tests: the local replica of an upstream we cannot reach.

``LoopbackServer`` serves files from a directory (``root``) and in-memory routes (``routes``: path, with
or without its query -> bytes or a callable returning ``(status, headers, body)``), honours single ``Range: bytes=N-``
requests with 206 as real servers do (and ``If-Range`` against a route's ``ETag`` or ``Last-Modified``
header), and counts requests and body bytes sent per path so a test can
prove that nothing was fetched twice.  Faults for download tests are set per path in ``faults``:

    "drop_after": N     close the connection after N body bytes (a lost connection)
    "ignore_range": True  answer 200 with the whole file even when a Range was asked for
    "status": 503       answer with this status (and no body)
    "corrupt": True     flip the first byte of the body
    "delay": seconds    sleep before answering (latency, or a stall with a large value)
    "rate": bytes/s     cap the bandwidth of this response

Use as a context manager: ``with LoopbackServer(root=tmp_path) as srv: srv.url("/x")``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Route = bytes | Callable[["BaseHTTPRequestHandler"], tuple[int, dict[str, str], bytes]]


class LoopbackServer:
    def __init__(self, root: Path | None = None, routes: dict[str, Route] | None = None) -> None:
        self.root = Path(root) if root else None
        self.routes: dict[str, Route] = dict(routes or {})
        self.faults: dict[str, dict[str, Any]] = {}
        self.requests: Counter[str] = Counter()
        self.bytes_sent: Counter[str] = Counter()
        self.ranges: list[tuple[str, str]] = []  # (path, Range header) for every ranged request
        self.active = 0  # requests being answered (their bytes are counted when they end)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + ("" if path.startswith("/") else "/") + path

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every response has ended, so ``bytes_sent`` is final (a client can finish
        reading before the server thread has counted)."""
        deadline = time.monotonic() + timeout
        while self.active and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _body_for(self, handler: BaseHTTPRequestHandler, path: str) -> tuple[int, dict[str, str], bytes] | None:
        bare = path.split("?", 1)[0]
        route = self.routes.get(path, self.routes.get(bare))
        if route is not None:
            return route(handler) if callable(route) else (200, {}, route)
        if self.root is not None:
            candidate = (self.root / bare.lstrip("/")).resolve()
            if candidate.is_file() and self.root.resolve() in candidate.parents:
                return 200, {}, candidate.read_bytes()
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"loopback": self})


class _Handler(BaseHTTPRequestHandler):
    """Answers for one ``LoopbackServer`` (``loopback``, set on a subclass per server)."""

    loopback: LoopbackServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall on reused connections

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        server = self.loopback
        with server._lock:
            server.active += 1
        try:
            self._answer(head)
        finally:
            with server._lock:
                server.active -= 1

    def _empty(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _answer(self, head: bool) -> None:
        server, path = self.loopback, self.path
        fault = server.faults.get(path, {})
        with server._lock:
            server.requests[path] += 1
        if fault.get("delay"):
            time.sleep(fault["delay"])
        if fault.get("status"):
            return self._empty(fault["status"])
        found = server._body_for(self, path)
        if found is None:
            return self._empty(404)
        status, headers, body = found
        start = 0
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range not in (headers.get("ETag"), headers.get("Last-Modified")):
            rng = None  # RFC 9110: the validator does not match, so the whole (changed) file is sent
        if rng and status == 200 and not fault.get("ignore_range") and rng.startswith("bytes="):
            server.ranges.append((path, rng))
            first = rng[len("bytes=") :].split("-", 1)[0]
            if first.isdigit() and int(first) < len(body):
                start = int(first)
                status = 206
                headers = {**headers, "Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"}
            elif first.isdigit():
                return self._empty(416, {"Content-Range": f"bytes */{len(body)}"})
        payload = body[start:]
        if fault.get("corrupt") and payload:
            payload = bytes([payload[0] ^ 0xFF]) + payload[1:]
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if not head:
            self._write(path, payload, fault)

    def _write(self, path: str, payload: bytes, fault: dict[str, Any]) -> None:
        server = self.loopback
        limit = fault.get("drop_after")
        rate = fault.get("rate")
        chunk = 64 * 1024 if not rate else max(1024, int(rate) // 20)
        sent = 0
        try:
            while sent < len(payload):
                piece = payload[sent : sent + chunk]
                if limit is not None and sent + len(piece) > limit:
                    piece = piece[: max(0, limit - sent)]
                    self.wfile.write(piece)
                    sent += len(piece)
                    self.close_connection = True
                    break
                self.wfile.write(piece)
                sent += len(piece)
                if rate:
                    time.sleep(len(piece) / rate)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with server._lock:
                server.bytes_sent[path] += sent
        if limit is not None and sent >= limit:
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
