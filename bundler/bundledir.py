"""A bundle directory written beside its final place and renamed into it only when complete.

``build`` and ``resplit`` write through ``new_bundle_dir``: a failure (or Ctrl-C) removes the
partial directory, so an operator never finds half a bundle under ``--out``; an OSError becomes one
line naming the directory.  Imports only ``bundler.core``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bundler.core.errors import BundleError


@contextmanager
def new_bundle_dir(out: Path, suffix: str, what: str) -> Iterator[Path]:
    """Yield a fresh directory beside ``out``; on success it replaces ``out`` (absent or empty)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=suffix, dir=out.parent))
    try:
        yield tmp
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, BundleError):
            raise BundleError(f"writing {what} into {tmp}: {exc}") from None
        raise
