"""Plumbing shared by the two CLIs: logging, error reporting, exit codes and JSON output.

Command modules live in ``bundler/commands`` and ``installer/commands``; each exposes
``register(subparsers)`` which adds its sub-command(s) and sets ``func`` to a callable taking the
parsed arguments and returning an exit code.  Each CLI's ``main`` passes its list of command
modules to ``run``.  Imports only ``bundler.core``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from bundler.core.errors import BundleError

log = logging.getLogger(__name__)


def build_parser(prog: str, description: str, commands: Sequence[ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in commands:
        module.register(sub)
    return parser


def run(prog: str, description: str, commands: Sequence[ModuleType], argv: Sequence[str] | None = None) -> int:
    parser = build_parser(prog, description, commands)
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format=f"{prog}: %(levelname)s: %(message)s", stream=sys.stderr)
    logging.getLogger("urllib3").setLevel(max(level, logging.WARNING))
    try:
        return int(args.func(args) or 0)
    except BundleError as exc:
        if args.debug:
            raise
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def _mirror(value: str) -> tuple[str, str]:
    upstream, sep, mirror = value.partition("=")
    if not sep or not upstream or not mirror:
        raise argparse.ArgumentTypeError(f"{value!r}: expected UPSTREAM_PREFIX=MIRROR_PREFIX")
    return upstream, mirror


def add_mirror_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mirror",
        action="append",
        type=_mirror,
        default=[],
        metavar="UPSTREAM=MIRROR",
        help="fetch URLs starting with UPSTREAM from MIRROR instead (repeatable); checksums are unchanged",
    )


def print_json(obj: object) -> None:
    """Stable JSON for scripts: sorted keys, two-space indent, trailing newline."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")
