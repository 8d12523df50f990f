"""``bosh-bundle sign DIR --sign-key KEYID``: sign an existing bundle (``SHA256SUMS.gpg``).

The bundle is verified first (a bundle whose files do not match its ``SHA256SUMS`` is never
signed); a bundle built before ``bundle.json`` existed gets one (serial, expiry) and its line in
``SHA256SUMS``.  Also holds the signing and serial options ``build`` shares.
Imports only ``bundler.core``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bundler.core.archive import needs_password
from bundler.core.bundlemeta import META, BundleMeta, new_meta, read_meta, write_meta
from bundler.core.cliapp import add_bundle_argument, add_dry_run_option, example, progress_for
from bundler.core.digest import sha256_file
from bundler.core.errors import InputError, IntegrityError
from bundler.core.password import read_password
from bundler.core.signing import sign_sums, signing_key
from bundler.core.sums import SUMS, parse_sums, save_sums
from bundler.core.verify import render, verify_bundle


def add_signing_options(p: argparse.ArgumentParser, required: bool = False) -> None:
    p.add_argument(
        "--sign-key",
        required=required,
        metavar="KEYID",
        help="sign SHA256SUMS with this gpg key (writes SHA256SUMS.gpg; gpg honours GNUPGHOME)",
    )
    p.add_argument("--serial", type=int, default=None, help="bundle serial (default: UTC time as YYYYMMDDHHMMSS)")
    p.add_argument("--expires-days", type=float, default=None, metavar="DAYS", help="the bundle expires after DAYS")


def meta_from_args(args: argparse.Namespace) -> BundleMeta:
    if args.expires_days is not None and args.expires_days <= 0:
        raise InputError(f"--expires-days {args.expires_days}: must be more than 0")
    return new_meta(args.serial, args.expires_days)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sign",
        help="sign an existing bundle's SHA256SUMS with a gpg key (SHA256SUMS.gpg)",
        epilog=example("%(prog)s --bundle ./bundle --sign-key ops@example.org"),
    )
    add_bundle_argument(p)
    add_signing_options(p, required=True)
    add_dry_run_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    bundle: Path = args.bundle
    meta = meta_from_args(args)
    if not bundle.is_dir():
        raise InputError(f"{bundle}: no such bundle directory")
    fingerprint = signing_key(args.sign_key)  # before reading gigabytes, and in a dry run
    password = read_password(confirm=False) if needs_password(bundle) else None
    report = verify_bundle(bundle, password=password, progress=progress_for(args))
    if not report.ok:
        print(render(report))
        raise IntegrityError(f"{bundle}: not signed: the bundle does not verify (see above)")
    existing = read_meta(bundle)
    if existing is not None and (args.serial is not None or args.expires_days is not None):
        raise InputError(f"{bundle / META}: the bundle has a serial already; --serial and --expires-days are for build")
    if args.dry_run:
        adds = f"; would add {META} (serial {meta.serial}) and its line in {SUMS}" if existing is None else ""
        print(f"{bundle}: verified; would sign {SUMS} with {args.sign_key} ({fingerprint}){adds}")
        print("dry run: nothing was changed")
        return 0
    if existing is None:
        write_meta(bundle, meta)
        digests, _ = parse_sums((bundle / SUMS).read_text(encoding="utf-8"))
        save_sums(bundle, {**digests, META: sha256_file(bundle / META)})
    signature = sign_sums(bundle, args.sign_key)
    print(f"{signature}: signed {SUMS} with {args.sign_key} (serial {read_meta(bundle).serial})")
    return 0
