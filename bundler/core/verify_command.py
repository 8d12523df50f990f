"""The ``verify`` sub-command of both CLIs: check a bundle directory (``bosh-bundle``, ``bosh-install``).

Imports only ``bundler.core``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bundler.core.archive import needs_password
from bundler.core.cliapp import print_json
from bundler.core.password import read_password
from bundler.core.verify import render, verify_bundle


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a bundle: SHA256SUMS, every payload member against the lock, contents")
    p.add_argument("bundle", type=Path, metavar="DIR", help="bundle directory")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--jobs", type=int, default=None, help="parallel hashing (default: one per core)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    password = None
    if args.bundle.is_dir() and needs_password(args.bundle):
        password = read_password(confirm=False)
    report = verify_bundle(args.bundle, jobs=args.jobs, password=password)
    if args.json:
        print_json(report.to_json())
    else:
        print(render(report))
    return 0 if report.ok else 1
