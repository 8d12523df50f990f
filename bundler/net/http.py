"""The one HTTP client of the connected side: a shared session, mirrors, retries and bounded reads.

Nothing else in ``bundler`` opens an HTTP connection.  Resolvers read small things through
``Http.get_bytes`` (apt indexes, gem index files, bosh.io API answers): retried on connection errors
and 5xx with backoff, refused past a size limit (``MAX_READ`` unless the caller knows better), and,
with ``sha256``, refused unless the bytes match.  ``Http.head`` asks for a size.  Artifacts go through
``bundler.net.download``, which calls ``Http.open`` (one attempt: a raw body from a byte offset, with
``If-Range``) and does its own retrying, resuming and hashing.  Every failure is a ``FetchError``
naming the URL (and the mirror it was rewritten to); a broken body is a ``BrokenTransfer`` the
downloader resumes after.

This is the only module that imports ``requests`` or ``urllib3``; of the project it imports only
``bundler.core.errors``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3

from bundler.core.errors import FetchError, IntegrityError

log = logging.getLogger(__name__)

USER_AGENT = "bosh-offline/0.1"
TIMEOUT = (10, 60)  # connect, read (seconds)
MAX_READ = 512 * 1024 * 1024  # get_bytes: the largest index or API answer we accept by default
_BROKEN = (requests.RequestException, urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)


def apply_mirrors(url: str, mirrors: Sequence[tuple[str, str]]) -> str:
    """Rewrite ``url`` with the longest matching upstream prefix; checksums still come from the lock."""
    for upstream, mirror in sorted(mirrors, key=lambda m: -len(m[0])):
        if url.startswith(upstream):
            return mirror + url[len(upstream) :]
    return url


def new_session(pool_size: int = 8) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class BrokenTransfer(Exception):
    """A connection that failed or a body that broke off: transient, worth resuming."""


class Body:
    """One open response of ``Http.open``: status, headers and the body's bytes exactly as sent."""

    def __init__(self, resp: requests.Response) -> None:
        self._resp = resp
        self.status: int = resp.status_code
        self.reason: str = resp.reason or ""
        self.headers: Mapping[str, str] = resp.headers

    def blocks(self, size: int) -> Iterator[bytes]:
        """The body in blocks of at most ``size`` bytes, without Content-Encoding decoding (a ``.tgz``
        served with ``Content-Encoding: gzip`` stays a ``.tgz``).  ``read1`` hands over whatever
        arrived, so a dropped connection loses no received byte (urllib3 1.x has no read1: small reads
        lose at most 64 KiB)."""
        raw = self._resp.raw
        read = getattr(raw, "read1", None) or (lambda n, **kw: raw.read(min(n, 65536), **kw))
        try:
            while block := read(size, decode_content=False):
                yield block
        except _BROKEN as exc:
            raise BrokenTransfer(f"connection lost ({type(exc).__name__})") from None

    def close(self) -> None:
        self._resp.close()

    def __enter__(self) -> Body:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Http:
    mirrors: Sequence[tuple[str, str]] = ()
    retries: int = 3
    backoff: float = 0.5
    session: requests.Session = field(default_factory=new_session)

    def url(self, url: str) -> str:
        return apply_mirrors(url, self.mirrors)

    def shown(self, url: str) -> str:
        """``url`` as messages name it: with the mirror it was rewritten to, if any."""
        real = self.url(url)
        return url if real == url else f"{url} (mirror {real})"

    def get(self, url: str, *, allow_404: bool = False, **kwargs: Any) -> requests.Response | None:
        """GET with retries on connection errors and 5xx.  ``None`` for a 404 when ``allow_404``."""
        real, shown = self.url(url), self.shown(url)
        last: str = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                resp = self.session.get(real, timeout=TIMEOUT, **kwargs)
            except requests.RequestException as exc:
                last = f"{type(exc).__name__}: {exc}"
                log.debug("GET %s failed (%s), attempt %d", shown, last, attempt + 1)
                continue
            if resp.status_code == 404 and allow_404:
                resp.close()
                return None
            if resp.status_code >= 500:
                last = f"HTTP {resp.status_code}"
                resp.close()
                continue
            if resp.status_code != 200:
                resp.close()
                raise FetchError(f"GET {shown}: HTTP {resp.status_code} {resp.reason}")
            return resp
        raise FetchError(f"GET {shown}: {last} (after {self.retries + 1} attempts)")

    def get_bytes(
        self, url: str, *, sha256: str | None = None, allow_404: bool = False, limit: int = MAX_READ
    ) -> bytes | None:
        """The whole body of ``url`` (at most ``limit`` bytes), checked against ``sha256`` when given."""
        for attempt in range(self.retries + 1):
            resp = self.get(url, allow_404=allow_404, stream=True)
            if resp is None:
                return None
            try:
                data = self._read_capped(resp, url, limit)
                break
            except BrokenTransfer as exc:
                if attempt == self.retries:
                    raise FetchError(f"GET {self.shown(url)}: {exc} (after {self.retries + 1} attempts)") from None
                log.debug("GET %s: %s, attempt %d", self.shown(url), exc, attempt + 1)
                time.sleep(self.backoff * 2**attempt)
        if sha256 is not None:
            got = hashlib.sha256(data).hexdigest()
            if got != sha256:
                raise IntegrityError(f"{url}: sha256 is {got}, expected {sha256}")
        return data

    def _read_capped(self, resp: requests.Response, url: str, limit: int) -> bytes:
        with resp:
            announced = resp.headers.get("Content-Length", "")
            if announced.isdigit() and int(announced) > limit:
                raise IntegrityError(f"GET {self.shown(url)}: {announced} bytes announced, more than {limit} allowed")
            parts, size = [], 0
            try:
                for block in resp.iter_content(1024 * 1024):
                    size += len(block)
                    if size > limit:
                        raise IntegrityError(f"GET {self.shown(url)}: more than {limit} bytes; refusing the answer")
                    parts.append(block)
            except _BROKEN as exc:
                raise BrokenTransfer(f"transfer failed after {size} bytes ({type(exc).__name__})") from None
        return b"".join(parts)

    def head(self, url: str) -> tuple[int, Mapping[str, str]]:
        """Status and headers of ``HEAD url`` (redirects followed); a failed connection is a ``FetchError``."""
        try:
            resp = self.session.head(self.url(url), allow_redirects=True, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise FetchError(f"HEAD {url}: {type(exc).__name__}: {exc}") from None
        resp.close()
        return resp.status_code, resp.headers

    def get_from(self, url: str, offset: int, *, limit: int = MAX_READ) -> tuple[int, Mapping[str, str], bytes]:
        """One ``GET url`` with ``Range: bytes=OFFSET-`` (a file's new tail): status, headers and the body
        (at most ``limit`` bytes), not retried.  A failed connection is a ``FetchError``."""
        try:
            with self.open(url, offset=offset) as body:
                parts, size = [], 0
                for block in body.blocks(1024 * 1024):
                    size += len(block)
                    if size > limit:
                        raise IntegrityError(f"GET {self.shown(url)}: more than {limit} bytes; refusing the answer")
                    parts.append(block)
                return body.status, body.headers, b"".join(parts)
        except BrokenTransfer as exc:
            raise FetchError(f"GET {self.shown(url)} from byte {offset}: {exc}") from None

    def open(
        self, url: str, *, offset: int = 0, if_range: str | None = None, timeout: tuple[float, float] = TIMEOUT
    ) -> Body:
        """One GET of ``url`` (mirrors applied) from byte ``offset``, not retried, body not read yet.
        A failed connection is a ``BrokenTransfer``; the caller judges the status."""
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if if_range:
                headers["If-Range"] = if_range
        try:
            return Body(self.session.get(self.url(url), headers=headers, stream=True, timeout=timeout))
        except requests.RequestException as exc:
            raise BrokenTransfer(f"{type(exc).__name__}: {exc}") from None
