"""Progress of the long phases (download, content checks, packing, SHA256SUMS, verify, resplit).

One abstraction, passed in by the command that draws it (no globals): a ``TermProgress`` hands out
one ``Bar`` per phase.  A bar counts bytes (always shown in MB, as every size of both CLIs) and,
where the phase works through files, ``n/N files``; it shows the rate and the time left:

    download      3/12 files   450.1/1024.0 MB |██████████▌             |  35.21MB/s  ETA 00:16

Library code takes a ``Bar`` (``NULL_BAR`` when nobody watches) and calls ``add_total``,
``advance`` (bytes, thread-safe), ``file_done`` and ``note`` (a line above the bar, such as
"downloaded debs/x.deb (1.2 MB)").  Bars are drawn on stderr only when both stdout and stderr are
terminals and ``--quiet`` is not given; otherwise nothing is printed but the command's final
summary, so logs and CI output stay clean.  ``Bar`` also implements the download progress of
``bundler.net.download`` (``finished``).  ``counter(progress, phase, total, unit)`` is the same for a
phase that counts things rather than bytes (the installer's packages n of N, gems n of N, Ruby's
build output lines against the previous build's count).

Imports ``bundler.core`` (lock, sizes) and tqdm.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

from tqdm import tqdm

from bundler.core.lock import Artifact
from bundler.core.sizes import format_size

_BYTES = "{desc} {n:7.1f}/{total:.1f} MB |{bar:24}| {rate_noinv_fmt:>10}  ETA {remaining}"
_UNSIZED = "{desc} {n:7.1f} MB {rate_noinv_fmt:>10}"  # a download whose size nobody announced


def mb(n: int) -> str:
    """A size in MB, the one unit of both CLIs (``bundler.core.sizes``: never ``0.0 MB``)."""
    return format_size(n)


class NullBar:
    """A bar nobody sees: what library code gets when no progress is wanted."""

    def add_total(self, nbytes: int, files: int = 0) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def file_done(self, n: int = 1) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def finished(self, artifact: Artifact, how: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> NullBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


NULL_BAR = NullBar()


def _size(stream: TextIO) -> dict[str, object]:
    """tqdm's size options: follow the terminal, or 100x24 where it reports none (a serial console says
    0x0, and tqdm then draws nothing at all)."""
    try:
        columns, lines = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError, AttributeError):
        columns = lines = 0
    if columns and lines:
        return {"dynamic_ncols": True}
    return {"ncols": columns or 100, "nrows": lines or 24}


class Bar(NullBar):
    """One phase's bar on a terminal: MB done of MB expected, files done of files expected."""

    def __init__(self, phase: str, total: int, files: int, stream: TextIO) -> None:
        self._lock = threading.Lock()
        self.phase, self.files, self.files_total = phase, 0, files
        self.stream = stream
        self.tqdm = tqdm(
            total=total / 1e6, unit="MB", file=stream, bar_format=_BYTES if total else _UNSIZED,
            desc=self._desc(), leave=True, mininterval=0.2, **_size(stream),
        )  # fmt: skip

    def _desc(self) -> str:
        files = f"{self.files:>4}/{self.files_total} files" if self.files_total else ""
        return f"{self.phase:<10} {files:>14}"

    def _describe(self) -> None:
        self.tqdm.set_description_str(self._desc(), refresh=False)

    def add_total(self, nbytes: int, files: int = 0) -> None:
        with self._lock:
            self.tqdm.total = (self.tqdm.total or 0) + nbytes / 1e6
            self.tqdm.bar_format = _BYTES if self.tqdm.total else _UNSIZED
            self.files_total += files
            self._describe()
            self.tqdm.refresh()

    def advance(self, nbytes: int) -> None:
        with self._lock:
            step = nbytes / 1e6
            if self.tqdm.total and step > 0:  # headers and retries never push a bar past its end
                step = min(step, max(0.0, self.tqdm.total - self.tqdm.n))
            self.tqdm.update(step)

    def file_done(self, n: int = 1) -> None:
        with self._lock:
            self.files += n
            self._describe()
            self.tqdm.refresh()

    def note(self, text: str) -> None:
        with self._lock:
            self.tqdm.write(text, file=self.stream)

    def finished(self, artifact: Artifact, how: str) -> None:
        verb = {"cache": "cached    ", "download": "downloaded", "copy": "copied    "}.get(how, how)
        self.note(f"{verb} {artifact.path} ({format_size(artifact.size)})")
        self.file_done()

    def close(self) -> None:
        with self._lock:
            if self.tqdm.total and self.tqdm.n < self.tqdm.total and self.files >= self.files_total:
                self.tqdm.n = self.tqdm.total  # rounding of many small float steps
            self.tqdm.close()


class TermProgress:
    """The progress of one command: bars on stderr, when both stdout and stderr are terminals."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None, force: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.enabled = force or (not quiet and self.stream.isatty() and sys.stdout.isatty())

    def bar(self, phase: str, total: int = 0, files: int = 0) -> NullBar:
        """A bar for ``phase`` (``total`` bytes, ``files`` files; both may grow with ``add_total``)."""
        if not self.enabled:
            return NULL_BAR
        return Bar(phase, total, files, self.stream)


NO_PROGRESS = TermProgress(quiet=True)


class NullCounter:
    """A counter nobody sees (``TermProgress.counter`` when no progress is wanted)."""

    def step(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


NULL_COUNTER = NullCounter()


class Counter(NullCounter):
    """A phase that counts things, not bytes (the installer's packages, gems, build output lines):

    debs      3/12 packages |██████▌          | 25%  ETA 00:40
    """

    def __init__(self, phase: str, total: int, unit: str, stream: TextIO) -> None:
        fmt = "{desc:<10}{n_fmt}/{total_fmt} " + unit + " |{bar:24}| {percentage:3.0f}%  ETA {remaining}"
        self.tqdm = tqdm(
            total=max(1, total), desc=phase, file=stream, bar_format=fmt, leave=True, mininterval=0.5, **_size(stream)
        )

    def step(self, n: int = 1) -> None:
        if self.tqdm.n + n <= self.tqdm.total:  # an estimate (Ruby's lines) may fall short: stop at 100%
            self.tqdm.update(n)

    def close(self) -> None:
        self.tqdm.close()


def counter(progress: TermProgress, phase: str, total: int, unit: str) -> NullCounter:
    """A ``Counter`` of ``total`` ``unit`` for ``phase`` when ``progress`` draws, else ``NULL_COUNTER``."""
    if not progress.enabled or total <= 0:
        return NULL_COUNTER
    return Counter(phase, total, unit, progress.stream)
