"""``bosh-bundle lock``: resolve a spec against upstream and write bundle.lock.

Imports ``bundler.resolve``, ``bundler.lockcontext``, ``bundler.core``, ``bundler.net`` and the spec.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from bundler.core.cliapp import add_dry_run_option, add_mirror_option, example, progress_for
from bundler.core.lock import write_lock
from bundler.core.sizes import format_size
from bundler.core.tool import tool_id
from bundler.lockcontext import LockContext
from bundler.net.cache import default_cache_dir
from bundler.net.http import Http
from bundler.resolve import resolve_spec
from bundler.spec import load_spec, with_mirrors


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lock",
        help="resolve the spec and write bundle.lock",
        description="Resolve the spec against upstream (apt sources, gem source, bosh.io, pinned URLs), check what "
        "it downloads on the way, and write the lock: every artifact with its URL, size, sha256 and trust source. "
        "The same spec and upstream give the same lock, byte for byte.",
        epilog=example("%(prog)s --spec bundle.yml --lock bundle.lock"),
    )
    p.add_argument("--spec", type=Path, default=Path("bundle.yml"), help="bundle spec (default: bundle.yml)")
    p.add_argument("--lock", type=Path, default=None, help="lock file to write (default: bundle.lock beside the spec)")
    p.add_argument("--cache", type=Path, default=None, help="download cache (default: ~/.cache/bosh-bundle)")
    add_dry_run_option(p)
    add_mirror_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    spec = with_mirrors(load_spec(args.spec), args.mirror)
    lock_path = args.lock or spec.path.with_name("bundle.lock")
    ctx = LockContext(
        http=Http(mirrors=spec.mirrors),
        cache=args.cache or default_cache_dir(),
        progress=progress_for(args),
    )
    lock = dataclasses.replace(resolve_spec(spec, ctx), tool=tool_id())
    old = lock_path.read_text(encoding="utf-8") if lock_path.exists() else None
    if old == lock.dumps():
        print(f"{lock_path}: unchanged ({len(lock.artifacts)} artifacts)")
        return 0
    if args.dry_run:
        print(f"{lock_path}: would write {len(lock.artifacts)} artifacts, {format_size(lock.total_size)}")
        return 0
    write_lock(lock, lock_path)
    print(f"{lock_path}: {len(lock.artifacts)} artifacts, {format_size(lock.total_size)}")
    return 0
