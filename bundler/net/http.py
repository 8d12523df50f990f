"""HTTP access for the bundler: one shared session, mirrors, retries, and small checked reads.

Large artifacts go through ``bundler.net.download`` (streaming, resumable, into the cache).  This module is
for what resolvers read: apt indexes, gem index files, bosh.io API answers.  ``Http.get_bytes``
retries connection errors and 5xx with backoff and turns every failure into a ``FetchError`` naming
the URL; with ``sha256`` it refuses bytes that do not match.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import requests

from bundler.core.errors import FetchError, IntegrityError

log = logging.getLogger(__name__)

USER_AGENT = "bosh-offline/0.1"
TIMEOUT = (10, 60)  # connect, read (seconds)


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


@dataclass
class Http:
    mirrors: Sequence[tuple[str, str]] = ()
    retries: int = 3
    backoff: float = 0.5
    session: requests.Session = field(default_factory=new_session)

    def url(self, url: str) -> str:
        return apply_mirrors(url, self.mirrors)

    def get(self, url: str, *, allow_404: bool = False, **kwargs) -> requests.Response | None:
        """GET with retries on connection errors and 5xx.  ``None`` for a 404 when ``allow_404``."""
        real = self.url(url)
        shown = url if real == url else f"{url} (mirror {real})"
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
                return None
            if resp.status_code >= 500:
                last = f"HTTP {resp.status_code}"
                continue
            if resp.status_code != 200:
                raise FetchError(f"GET {shown}: HTTP {resp.status_code} {resp.reason}")
            return resp
        raise FetchError(f"GET {shown}: {last} (after {self.retries + 1} attempts)")

    def get_bytes(self, url: str, *, sha256: str | None = None, allow_404: bool = False) -> bytes | None:
        resp = self.get(url, allow_404=allow_404)
        if resp is None:
            return None
        data = resp.content
        if sha256 is not None:
            got = hashlib.sha256(data).hexdigest()
            if got != sha256:
                raise IntegrityError(f"{url}: sha256 is {got}, expected {sha256}")
        return data
