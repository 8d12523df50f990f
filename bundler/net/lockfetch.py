"""Downloads made while locking: when upstream publishes no sha256 (or no size), we must read the file.

``bosh-bundle lock`` needs a sha256 and size for every artifact.  bosh.io gives only a sha1 for
most releases, and a binary may come with no checksum at all, so the resolver downloads the file
once, hashing it as it streams, and keeps the verified bytes in the content-addressed cache (where
``bosh-bundle build`` finds them, so nothing is downloaded twice).  What it learned is remembered
in a small JSON index keyed by the upstream checksum or URL, so locking again reads nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import requests
import urllib3

from bundler.core.errors import FetchError
from bundler.net.cache import artifact_path, index_dir
from bundler.net.http import Http

T = TypeVar("T")

CHUNK = 4 * 1024 * 1024
log = logging.getLogger(__name__)


def url_chunks(http: Http, url: str) -> Iterator[bytes]:
    """The body of ``url`` (mirrors applied) in chunks, exactly as sent (no Content-Encoding decoding:
    a ``.tgz`` served with ``Content-Encoding: gzip`` stays a ``.tgz``).  A broken or short transfer
    raises ``FetchError``."""
    resp = http.get(url, stream=True)
    assert resp is not None
    expected = resp.headers.get("Content-Length", "")
    got = 0
    try:
        for chunk in resp.raw.stream(CHUNK, decode_content=False):
            got += len(chunk)
            yield chunk
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise FetchError(f"GET {url}: transfer failed after {got} bytes ({type(exc).__name__}: {exc})") from None
    finally:
        resp.close()
    if expected.isdigit() and got != int(expected):
        raise FetchError(f"GET {url}: the transfer ended after {got} of {expected} bytes")


def retrying(http: Http, what: str, download: Callable[[], T]) -> T:
    """Run ``download`` again (from the start) when the transfer breaks, as often as ``http.retries``."""
    for attempt in range(http.retries + 1):
        try:
            return download()
        except FetchError as exc:
            if attempt == http.retries:
                raise
            log.warning("%s: %s; trying again", what, exc)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def cache_sink(cache: Path) -> Iterator[tuple[BinaryIO, list[Path]]]:
    """A temporary file in the cache to stream a download into.  Append the cache path to the yielded
    list (``keep_as``) to move it there on success; otherwise it is removed."""
    tmp_dir = Path(cache) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, suffix=".part")
    keep_as: list[Path] = []
    try:
        with os.fdopen(fd, "wb") as f:
            yield f, keep_as
        if keep_as:
            keep_as[0].parent.mkdir(parents=True, exist_ok=True)
            os.replace(name, keep_as[0])
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def keep(cache: Path, sha256: str) -> Path:
    return artifact_path(cache, sha256)


def _index_file(cache: Path, kind: str, key: str) -> Path:
    return index_dir(cache, kind) / (hashlib.sha256(key.encode()).hexdigest() + ".json")


def remembered(cache: Path, kind: str, key: str) -> dict[str, Any] | None:
    """What an earlier lock learned about ``key``, if its verified file is still in the cache."""
    path = _index_file(cache, kind, key)
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(facts, dict) or not artifact_path(cache, str(facts.get("sha256", ""))).is_file():
        return None
    return facts


def remember(cache: Path, kind: str, key: str, facts: dict[str, Any]) -> None:
    path = _index_file(cache, kind, key)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(facts, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
