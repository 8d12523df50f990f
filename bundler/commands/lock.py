"""``bosh-bundle lock``: resolve a spec against upstream and write bundle.lock.

Imports ``bundler.resolve``, ``bundler.lockcontext``, ``bundler.core``, ``bundler.net`` and the spec.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bundler.core.cliapp import add_mirror_option
from bundler.core.lock import write_lock
from bundler.lockcontext import LockContext
from bundler.net.cache import default_cache_dir
from bundler.net.http import Http
from bundler.resolve import resolve_spec
from bundler.spec import load_spec, with_mirrors


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lock", help="resolve the spec and write bundle.lock")
    p.add_argument("--spec", type=Path, default=Path("bundle.yml"), help="bundle spec (default: bundle.yml)")
    p.add_argument("--lock", type=Path, default=None, help="lock file to write (default: bundle.lock beside the spec)")
    p.add_argument("--cache", type=Path, default=None, help="download cache (default: ~/.cache/bosh-bundle)")
    add_mirror_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    spec = with_mirrors(load_spec(args.spec), args.mirror)
    lock_path = args.lock or spec.path.with_name("bundle.lock")
    ctx = LockContext(
        http=Http(mirrors=spec.mirrors),
        cache=args.cache or default_cache_dir(),
    )
    lock = resolve_spec(spec, ctx)
    old = lock_path.read_text(encoding="utf-8") if lock_path.exists() else None
    if old == lock.dumps():
        print(f"{lock_path}: unchanged ({len(lock.artifacts)} artifacts)")
        return 0
    write_lock(lock, lock_path)
    print(f"{lock_path}: {len(lock.artifacts)} artifacts, {lock.total_size / 1e6:.1f} MB")
    return 0
