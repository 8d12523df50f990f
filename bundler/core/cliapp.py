"""Plumbing shared by the two CLIs: parsers, common options, logging, error reporting, exit codes, JSON.

Command modules live in ``bundler/commands`` and ``installer/commands``; each exposes
``register(subparsers)`` which adds its sub-command(s) and sets ``func`` to a callable taking the
parsed arguments and returning an exit code.  Each CLI's ``main`` passes its list of command
modules to ``run``.

The option rules both CLIs keep: ``--debug``, ``-v/--verbose`` and ``-q/--quiet`` are accepted
before or after any sub-command (every parser is a ``CommandParser``, which carries them with
suppressed defaults); ``--version`` on the top level; a sub-command without a description gets its
help line as one; the bundle directory is ``--bundle DIR`` (``add_bundle_argument``, with the
positional ``DIR`` kept where a command had one).  Errors: a ``BundleError`` is one line and its
exit code, an ``OSError`` on a user's path one line and exit 1, tracebacks only with ``--debug``;
third-party warnings are hidden unless ``--debug``.  Imports only ``bundler.core``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from bundler.core.errors import BundleError, InputError
from bundler.core.progress import TermProgress
from bundler.core.tool import tool_version

log = logging.getLogger(__name__)

COMMON = (
    (("--debug",), "show tracebacks, debug logs and third-party warnings"),
    (("-v", "--verbose"), "log what is being done (info messages)"),
    (("-q", "--quiet"), "no progress output: only errors and the final summary"),
)
COMMON_FLAGS = {flag for flags, _ in COMMON for flag in flags}
THIRD_PARTY = r"(urllib3|requests|botocore|boto3|s3transfer|py7zr|multivolumefile|tqdm|debian|resolvelib)(\.|$)"
JSON_HELP = "print the result as JSON on stdout (sorted keys), for scripts"
YES_HELP = "do not ask for confirmation"
DRY_RUN_HELP = "check and say what would be done; change nothing"
BUNDLE_POSITIONAL = "bundle_dir"


class HelpFormatter(argparse.HelpFormatter):
    """Wraps each paragraph of a description or epilog; keeps indented lines (examples) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        for para in re.split(r"\n\s*\n", text.strip("\n")):
            if para.startswith(" ") or "\n " in para:
                out.append("\n".join(indent + line for line in para.splitlines()))
            else:
                out.append(
                    textwrap.fill(" ".join(para.split()), width, initial_indent=indent, subsequent_indent=indent)
                )
        return "\n\n".join(out)


class CommandGroup(argparse._SubParsersAction):
    """Sub-commands whose description defaults to their help line."""

    def add_parser(self, name: str, **kwargs):
        helptext = kwargs.get("help")
        if not kwargs.get("description") and helptext:
            kwargs["description"] = helptext[0].upper() + helptext[1:] + ("" if helptext.endswith(".") else ".")
        return super().add_parser(name, **kwargs)


class CommandParser(argparse.ArgumentParser):
    """Every parser of both CLIs: the common options (any position), the help formatter, ``CommandGroup``."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        group = self.add_argument_group("common options")
        for flags, helptext in COMMON:
            group.add_argument(*flags, action="store_true", default=argparse.SUPPRESS, help=helptext)

    def add_argument(self, *args, **kwargs):
        if args and set(args) <= COMMON_FLAGS and all(a in self._option_string_actions for a in args):
            return self._option_string_actions[args[0]]  # a command adding --quiet again gets the common one
        return super().add_argument(*args, **kwargs)

    def add_subparsers(self, **kwargs):
        kwargs.setdefault("action", CommandGroup)
        return super().add_subparsers(**kwargs)


def example(*lines: str) -> str:
    """An epilog with the command's example(s), one per line, kept as written by ``HelpFormatter``."""
    return "example:\n" + "\n".join(f"  {line}" for line in lines)


def build_parser(prog: str, description: str, commands: Sequence[ModuleType]) -> argparse.ArgumentParser:
    parser = CommandParser(prog=prog, description=description, epilog=f"run '{prog} COMMAND --help' for a command")
    parser.add_argument("--version", action="version", version=f"{prog} (bosh-offline) {tool_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in commands:
        module.register(sub)
    return parser


def add_bundle_argument(parser: argparse.ArgumentParser, positional: bool = True, help: str = "") -> None:
    """The bundle directory as ``--bundle DIR`` and, where a command always had one, a positional ``DIR``."""
    what = help or "the bundle directory"
    if positional:
        parser.add_argument(BUNDLE_POSITIONAL, nargs="?", type=Path, metavar="DIR", help=f"{what} (or --bundle DIR)")
    parser.add_argument("--bundle", type=Path, default=None, metavar="DIR", help=what)


def _merge_bundle(args: argparse.Namespace) -> None:
    if not hasattr(args, BUNDLE_POSITIONAL):
        return
    given = getattr(args, BUNDLE_POSITIONAL)
    delattr(args, BUNDLE_POSITIONAL)
    if given is not None and args.bundle is not None and given != args.bundle:
        raise InputError(f"two bundle directories given: {given} and --bundle {args.bundle}; give one")
    args.bundle = args.bundle or given
    if args.bundle is None:
        raise InputError(f"{args.command}: give the bundle directory (DIR or --bundle DIR)")


def _check_bundle_dir(args: argparse.Namespace) -> None:
    """A file given as the bundle directory (a volume, the lock) is bad input, named with its directory."""
    bundle = getattr(args, "bundle", None)
    if isinstance(bundle, Path) and bundle.exists() and not bundle.is_dir():
        raise InputError(
            f"{bundle}: is a file, not a bundle directory; give the directory that holds it (--bundle {bundle.parent})"
        )


def _setup_output(prog: str, args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format=f"{prog}: %(levelname)s: %(message)s", stream=sys.stderr)
    for noisy in ("urllib3", "botocore", "boto3", "s3transfer", "py7zr", "multivolumefile"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.debug else logging.ERROR)
    if not args.debug:  # urllib3, botocore and py7zr warnings are not the operator's business
        warnings.filterwarnings("ignore", module=THIRD_PARTY)


def _path_error(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else ""
    reason = exc.strerror or str(exc)
    if exc.filename2 is not None:
        where = f"{where} -> {exc.filename2}"
    return f"{where}: {reason}" if where else reason


def run(prog: str, description: str, commands: Sequence[ModuleType], argv: Sequence[str] | None = None) -> int:
    parser = build_parser(prog, description, commands)
    args = parser.parse_args(argv)
    for name in ("debug", "verbose", "quiet"):
        if not hasattr(args, name):
            setattr(args, name, False)
    _setup_output(prog, args)
    try:
        _merge_bundle(args)
        _check_bundle_dir(args)
        return int(args.func(args) or 0)
    except BundleError as exc:
        if args.debug:
            raise
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # last resort: a path the user gave that cannot be read or written
        if args.debug:
            raise
        print(f"{prog}: error: {_path_error(exc)} (run with --debug for the traceback)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        if argv is None:  # the process is ours (not a caller's): worker threads stuck on I/O must not hold it
            sys.stdout.flush(), sys.stderr.flush(), os._exit(130)
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


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=JSON_HELP)


def add_yes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-y", "--yes", action="store_true", help=YES_HELP)


def add_dry_run_option(parser: argparse.ArgumentParser, *aliases: str, dest: str = "dry_run") -> None:
    parser.add_argument(*aliases, "--dry-run", dest=dest, action="store_true", help=DRY_RUN_HELP)


def progress_for(args: argparse.Namespace) -> TermProgress:
    """The command's progress bars: none with ``--quiet`` or ``--json`` (or off a terminal)."""
    return TermProgress(quiet=bool(getattr(args, "quiet", False) or getattr(args, "json", False)))


def print_json(obj: object) -> None:
    """Stable JSON for scripts: sorted keys, two-space indent, trailing newline."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")
