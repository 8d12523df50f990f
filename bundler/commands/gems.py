"""``bosh-bundle gems resolve``: resolve gem requirements against a compact-index source for a
target Ruby, and print the chosen set (for scripting and for checking a spec before locking)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bundler.core.cliapp import add_json_option, add_mirror_option, example, print_json
from bundler.core.errors import InputError
from bundler.core.gem.version import Version
from bundler.gems.compactindex import CompactIndex
from bundler.gems.provider import RubyTarget, resolve_gems
from bundler.net.cache import default_cache_dir, index_dir
from bundler.net.http import Http

log = logging.getLogger(__name__)

DEFAULT_SOURCE = "https://rubygems.org"


def _request(value: str) -> tuple[str, str]:
    name, _, requirement = value.partition(":")
    if not name:
        raise argparse.ArgumentTypeError(f"{value!r}: expected NAME or NAME:REQUIREMENT (e.g. 'bosh_cli:~> 1.3147.0')")
    return name, requirement.strip() or ">= 0"


def register(sub: argparse._SubParsersAction) -> None:
    gems = sub.add_parser(
        "gems",
        help="Ruby gem resolution",
        description="Resolve Ruby gems for a target Ruby, for scripting and for checking a spec before locking.",
        epilog=example("%(prog)s resolve --ruby 2.1.6 --rubygems 2.2.3 'bosh_cli:~> 1.3147.0'"),
    )
    gems_sub = gems.add_subparsers(dest="gems_command", metavar="ACTION", required=True)
    p = gems_sub.add_parser(
        "resolve",
        help="resolve gems for a target Ruby and print the chosen versions",
        description="Resolve NAME[:REQUIREMENT] requests (RubyGems syntax: '~> 1.3147.0', '>= 1, < 2') "
        "against a compact-index gem source, keeping only releases whose ruby/rubygems requirements "
        "the target satisfies, newest first with backtracking.",
        epilog=example("%(prog)s --ruby 2.1.6 --rubygems 2.2.3 'bosh_cli:~> 1.3147.0' 'bosh_cli_plugin_micro'"),
    )
    p.add_argument(
        "requests",
        nargs="+",
        type=_request,
        metavar="NAME[:REQUIREMENT]",
        help="a gem name, optionally with a RubyGems requirement after a colon",
    )
    p.add_argument("--source", default=DEFAULT_SOURCE, help=f"gem source (default: {DEFAULT_SOURCE})")
    p.add_argument("--ruby", required=True, metavar="VERSION", help="target Ruby version, e.g. 2.1.6")
    p.add_argument(
        "--rubygems",
        metavar="VERSION",
        default=None,
        help="target RubyGems version, e.g. 2.2.3 (Ruby 2.1.6's); without it, gems' rubygems "
        "requirements are not checked",
    )
    p.add_argument(
        "--platform",
        action="append",
        default=None,
        metavar="P",
        help="accepted gem platform (repeatable; default: ruby and x86_64-linux)",
    )
    p.add_argument("--cache", type=Path, default=None, help="index cache (default: ~/.cache/bosh-bundle)")
    add_json_option(p)
    add_mirror_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        ruby = Version(args.ruby)
        rubygems = Version(args.rubygems) if args.rubygems else None
    except InputError as exc:
        raise InputError(f"--ruby/--rubygems: {exc}") from None
    if rubygems is None:
        log.warning("no --rubygems given: the gems' rubygems requirements are not checked")
    platforms = tuple(args.platform or ("ruby", "x86_64-linux"))
    cache = index_dir(args.cache or default_cache_dir(), "gems")
    index = CompactIndex(Http(mirrors=args.mirror), args.source, cache)
    resolved = resolve_gems(index, args.requests, RubyTarget(ruby, rubygems, platforms))
    if args.json:
        print_json(
            {
                "source": index.source,
                "ruby": str(ruby),
                "rubygems": str(rubygems) if rubygems else None,
                "platforms": list(platforms),
                "gems": [
                    {
                        "name": e.name,
                        "version": str(e.version),
                        "platform": e.platform,
                        "sha256": e.sha256,
                        "url": index.gem_url(e),
                        "dependencies": [[n, str(r)] for n, r in e.dependencies],
                        "required_ruby_version": str(e.ruby) if e.ruby else ">= 0",
                    }
                    for e in resolved.gems
                ],
                "install_order": list(resolved.install_order),
            }
        )
        return 0
    width = max(len(e.name) for e in resolved.gems)
    for e in resolved.gems:
        print(f"{e.name:<{width}}  {e.version}" + ("" if e.platform == "ruby" else f"  {e.platform}"))
    return 0
