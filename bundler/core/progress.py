"""Download progress on a terminal: one tqdm bar for bytes overall and a line per finished artifact.

``TermProgress`` implements ``bundler.net.download.Progress``.  It stays silent when stderr is not a
terminal or with ``--quiet`` (then only errors are printed), so logs and CI output stay clean.

Imports ``bundler.core.lock`` and tqdm.
"""

from __future__ import annotations

import sys
import threading

from tqdm import tqdm

from bundler.core.lock import Artifact


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class TermProgress:
    def __init__(self, quiet: bool = False, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self._lock = threading.Lock()
        self.bar = tqdm(
            total=0, unit="B", unit_scale=True, unit_divisor=1024, desc="fetch", file=self.stream,
            disable=not self.enabled, dynamic_ncols=True, leave=True,
        )  # fmt: skip

    def add_total(self, nbytes: int) -> None:
        with self._lock:
            self.bar.total = (self.bar.total or 0) + nbytes
            self.bar.refresh()

    def advance(self, nbytes: int) -> None:
        with self._lock:
            self.bar.update(nbytes)

    def finished(self, artifact: Artifact, how: str) -> None:
        if not self.enabled:
            return
        verb = {"cache": "cached    ", "download": "downloaded", "copy": "copied    "}.get(how, how)
        with self._lock:
            self.bar.write(f"{verb} {artifact.path} ({_mb(artifact.size)})", file=self.stream)

    def close(self) -> None:
        self.bar.close()
