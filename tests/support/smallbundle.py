"""Small real bundles for the tests that damage one: built once from synthetic files, copied per test.

``small_lock`` writes deterministic files and a lock naming them (``file://`` URLs, nothing on the
network); ``small_bundle`` builds that lock with ``bundler.build`` (signed when given a key);
``copy_bundle`` gives a test its own copy to damage; ``snapshot`` records every entry of a tree to
prove that nothing was changed.  Imports ``bundler`` and ``tests.support.synthetic``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bundler.build import build_bundle
from bundler.core.bundlemeta import BundleMeta
from tests.support.synthetic import artifact, file_url, make_files, write_test_lock


def small_lock(tmp: Path, sizes: dict[str, int]) -> Path:
    """``tmp/bundle.lock`` naming files of these sizes, written under ``tmp/src``."""
    files = make_files(tmp / "src", sizes)
    write_test_lock(tmp / "bundle.lock", [artifact(n, d, file_url(tmp / "src" / n)) for n, d in files.items()])
    return tmp / "bundle.lock"


def small_bundle(tmp: Path, sizes: dict[str, int], meta: BundleMeta, sign_key: str | None = None) -> Path:
    """``tmp/bundle``: a complete bundle of files of these sizes (cache in ``tmp/cache``)."""
    build_bundle(small_lock(tmp, sizes), tmp / "bundle", cache=tmp / "cache", meta=meta, sign_key=sign_key)
    return tmp / "bundle"


def copy_bundle(template: Path, dest: Path) -> Path:
    """A copy of ``template`` at ``dest`` with modes kept (``cp -a``)."""
    subprocess.run(["cp", "-a", str(template), str(dest)], check=True)
    return dest


def snapshot(d: Path) -> dict[str, tuple[int, bytes | str]]:
    """Every entry under ``d`` with its mode and content (or link target): to prove nothing changed."""
    out: dict[str, tuple[int, bytes | str]] = {}
    for p in sorted(d.rglob("*")):
        st = p.lstat()
        if p.is_symlink():
            out[p.relative_to(d).as_posix()] = (st.st_mode, os.readlink(p))
        elif p.is_file():
            out[p.relative_to(d).as_posix()] = (st.st_mode, p.read_bytes())
        else:
            out[p.relative_to(d).as_posix()] = (st.st_mode, "")
    return out
