"""``bosh-bundle build``: download the lock's artifacts and pack the bundle directory.

Imports ``bundler.build``, ``bundler.core``, ``bundler.net`` and the spec.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bundler.build import build_bundle
from bundler.commands.sign import add_signing_options, meta_from_args
from bundler.core.cliapp import add_dry_run_option, add_mirror_option, example, progress_for
from bundler.core.lock import read_lock
from bundler.core.password import ENV, read_password
from bundler.core.signing import signing_key
from bundler.core.sizes import format_size
from bundler.core.volumes import parse_size
from bundler.net.cache import default_cache_dir
from bundler.net.download import FetchOptions
from bundler.net.http import Http, new_session
from bundler.spec import load_spec


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build",
        help="download the locked artifacts and write the bundle directory",
        description="Download every artifact of the lock (checked against its sha256 and size, cached, resumed), "
        "pack them into the payload volumes, write SHA256SUMS, the installer bootstrap and the lock, and check "
        "the payload just written.  The bundle directory is world-readable unless --encrypt.",
        epilog=example("%(prog)s --lock bundle.lock --out ./bundle --volume-size 4g"),
    )
    p.add_argument("--lock", type=Path, default=Path("bundle.lock"), help="lock file (default: bundle.lock)")
    p.add_argument("--out", type=Path, required=True, help="bundle directory to create (must not exist or be empty)")
    p.add_argument(
        "--volume-size",
        default=None,
        metavar="SIZE",
        help="split the payload into volumes of SIZE (4g for FAT32 media, 700m for CDs)",
    )
    p.add_argument(
        "--encrypt",
        action="store_true",
        help=f"encrypt the payload (AES-256, names too); password from ${ENV} or a prompt",
    )
    p.add_argument("--jobs", type=int, default=6, help="parallel downloads (default: 6)")
    p.add_argument("--cache", type=Path, default=None, help="download cache (default: ~/.cache/bosh-bundle)")
    p.add_argument("--spec", type=Path, default=None, help="spec whose 'mirrors' apply to the downloads")
    p.add_argument("--stall-timeout", type=float, default=30.0, help=argparse.SUPPRESS)
    add_dry_run_option(p)
    p.add_argument(
        "--since", type=Path, metavar="OLD.lock", help="a delta bundle: pack only what OLD.lock lacks (full new lock)"
    )
    add_mirror_option(p)
    add_signing_options(p)
    p.set_defaults(func=run)


def _mirrors(args: argparse.Namespace) -> list[tuple[str, str]]:
    merged: dict[str, str] = {}
    if args.spec is not None:
        merged.update(load_spec(args.spec).mirrors)
    merged.update(args.mirror)
    return sorted(merged.items(), key=lambda m: (-len(m[0]), m[0]))


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise SystemExit("bosh-bundle build: error: --jobs must be at least 1")
    volume_size = parse_size(args.volume_size) if args.volume_size else None
    meta_from_args(args)  # a bad --serial or --expires-days is an input error before any download
    lock = read_lock(args.lock)  # a bad lock is an input error before anything else happens
    if args.sign_key:
        signing_key(args.sign_key)  # a key gpg does not have fails now, not after the downloads
    if args.dry_run:
        print(f"would build {args.out}: {len(lock.artifacts)} artifacts, {format_size(lock.total_size)}")
        return 0
    password = read_password(confirm=True) if args.encrypt else None
    http = Http(mirrors=_mirrors(args), session=new_session(pool_size=max(8, args.jobs)))
    options = FetchOptions(jobs=args.jobs, stall_timeout=args.stall_timeout)
    result = build_bundle(
        args.lock,
        args.out,
        cache=args.cache or default_cache_dir(),
        http=http,
        options=options,
        progress=progress_for(args),
        volume_size=volume_size,
        password=password,
        meta=meta_from_args(args),
        sign_key=args.sign_key,
        since=args.since,
    )
    vols = ", ".join(result.volumes)  # the final summary, --quiet or not
    print(
        f"{result.out}: {result.artifacts} artifacts ({len(result.fetched.downloaded)} downloaded,"
        f" {len(result.fetched.cached)} from cache), payload {format_size(result.payload_bytes)} in {vols}"
        + (" (encrypted)" if password else "")
    )
    return 0
