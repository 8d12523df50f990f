"""The ``verify`` sub-command of both CLIs: check a bundle directory (``bosh-bundle``, ``bosh-install``).

``--keyring FILE`` checks ``SHA256SUMS.gpg`` with ``gpgv`` before anything else is read; with it an
unsigned bundle is refused unless ``--no-require-signature``.  Imports only ``bundler.core``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bundler.core.archive import needs_password
from bundler.core.cliapp import add_bundle_argument, add_json_option, example, print_json, progress_for
from bundler.core.password import read_password
from bundler.core.signing import SignatureError, signature_policy
from bundler.core.verify import irregular_entries, render, verify_bundle


def add_keyring_options(p: argparse.ArgumentParser) -> None:
    """``--keyring FILE`` and ``--require-signature`` (default on with ``--keyring``): shared by
    ``verify`` and ``bosh-install install``."""
    p.add_argument(
        "--keyring", type=Path, default=None, metavar="FILE", help="check SHA256SUMS.gpg against this keyring"
    )
    p.add_argument(
        "--require-signature",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="refuse an unsigned bundle (default: on with --keyring)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="check a bundle: signature, SHA256SUMS, every payload member against the lock",
        description="Check a bundle directory: its signature (with --keyring), every file against SHA256SUMS, "
        "every payload member against the lock's sha256 and size, and the contents of the artifacts that have "
        "a checker.  Exit 0 when all hold, 1 when a check fails, 2 on bad input.",
        epilog=example("%(prog)s --bundle /media/usb/bundle"),
    )
    add_bundle_argument(p)
    add_json_option(p)
    p.add_argument("--jobs", type=int, default=None, help="parallel hashing (default: one per core)")
    add_keyring_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    password = None
    if args.bundle.is_dir():
        try:  # the signature first: nothing of an unsigned or forged bundle is read before it holds
            signature_policy(args.bundle, args.keyring, args.require_signature)
            if not irregular_entries(args.bundle) and needs_password(args.bundle):
                password = read_password(confirm=False)
        except SignatureError:
            pass  # verify_bundle reports it
    report = verify_bundle(
        args.bundle,
        jobs=args.jobs,
        password=password,
        keyring=args.keyring,
        require_signature=args.require_signature,
        progress=progress_for(args),
    )
    if args.json:
        print_json(report.to_json())
    else:
        print(render(report))
    return 0 if report.ok else 1
