"""Where the bundler keeps what it downloaded: a content-addressed cache shared by all builds.

Layout under the cache root (``--cache DIR``, default ``$XDG_CACHE_HOME/bosh-bundle``):
  sha256/ab/abcd…        verified artifacts, named by their sha256
  sha256/ab/abcd….part   an interrupted download, resumed with an HTTP Range request
  tmp/*.part             a download whose sha256 is learned as it streams (lock time)
  index/…                parsed upstream indexes (apt Packages, gem info), keyed by their sha256

The ``.part`` files are ``bundler.net.partfile``'s.  Imports nothing of the project.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bosh-bundle"


def artifact_path(cache: Path, sha256: str) -> Path:
    return Path(cache) / "sha256" / sha256[:2] / sha256


def index_dir(cache: Path, kind: str) -> Path:
    path = Path(cache) / "index" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path
