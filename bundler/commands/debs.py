"""``bosh-bundle debs resolve``: the deb closure apt would install, for scripting and checking.

Prints ``name=version`` lines in dpkg install order (or, with ``--json``, every artifact as the lock
would record it plus the install order, the dpkg stages, upgrades and removals).  Sources default
to this machine's apt configuration; ``--source 'deb [signed-by=KEYRING] URL SUITE COMPONENT…'``
replaces them.  Imports ``bundler.apt``, ``bundler.debs``, ``bundler.core``, ``bundler.net`` and the spec.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from bundler.apt.client import AptClient
from bundler.core.cliapp import add_json_option, add_mirror_option, example, print_json
from bundler.core.errors import InputError
from bundler.core.sizes import format_size
from bundler.debs.resolve import DebRequest, artifact_for, resolve_request
from bundler.net.cache import default_cache_dir
from bundler.net.http import Http
from bundler.spec import ARCHES, parse_one_line_source


def _native_arch() -> str:
    if shutil.which("dpkg"):
        out = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip() in ARCHES:
            return out.stdout.strip()
    return "amd64"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "debs",
        help="Debian package resolution",
        description="Resolve Debian packages as apt would, for scripting and for checking a spec before locking.",
        epilog=example("%(prog)s resolve --arch amd64 build-essential zlib1g-dev"),
    )
    dsub = p.add_subparsers(dest="debs_command", metavar="ACTION", required=True)
    r = dsub.add_parser(
        "resolve",
        help="print the closure apt-get install would install",
        description="Print the packages apt-get install would install, as name=version lines in dpkg install "
        "order, or with --json every artifact as the lock would record it plus the install order, the dpkg "
        "stages, upgrades and removals.  Sources default to this machine's apt configuration.",
        epilog=example("%(prog)s --base minimal --arch amd64 build-essential libssl-dev"),
    )
    r.add_argument("packages", nargs="+", metavar="PKG", help="package name or name=version")
    r.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="'deb [signed-by=K] URL SUITE COMP…'",
        help="apt source line (repeatable; default: this machine's apt configuration)",
    )
    r.add_argument(
        "--base",
        default="minimal",
        metavar="none|minimal|STATUS",
        help="what the target already has: nothing, the minbase set, or a dpkg status file (default: minimal)",
    )
    r.add_argument("--with-recommends", action="store_true", help="follow Recommends as apt does by default")
    r.add_argument(
        "--preferences",
        action="append",
        default=[],
        metavar="FILE",
        help="the target's apt preferences file (repeatable: /etc/apt/preferences, then preferences.d/*)",
    )
    r.add_argument("--arch", choices=ARCHES, default=None, help="target architecture (default: this machine's)")
    r.add_argument("--cache", type=Path, default=None, help="cache directory (default: ~/.cache/bosh-bundle)")
    add_json_option(r)
    add_mirror_option(r)
    r.set_defaults(func=run_resolve)


def run_resolve(args: argparse.Namespace) -> int:
    given = tuple(parse_one_line_source(s) for s in args.source)
    sources = given or tuple(AptClient.system_sources())
    if args.base not in ("none", "minimal") and not Path(args.base).is_file():
        raise InputError(f"--base {args.base}: expected none, minimal or an existing dpkg status file")
    client = AptClient(Http(mirrors=args.mirror), args.cache or default_cache_dir())
    arch = args.arch or _native_arch()
    req = DebRequest(tuple(args.packages), sources, arch, args.base, args.with_recommends, tuple(args.preferences))
    res = resolve_request(req, client)
    artifacts = {c.name: artifact_for(c) for c in res.install}
    if args.json:
        print_json(
            {
                "artifacts": [artifacts[c.name].to_json() for c in res.install],
                "install_order": [artifacts[c.name].path for c in res.order],
                "stages": [[artifacts[c.name].path for c in stage] for stage in res.stages],
                "upgrades": res.upgrades,
                "removes": res.removes,
                "base": args.base,
                "requested": res.requested,
            }
        )
        return 0
    for c in res.order:
        print(f"{c.name}={c.version}")
    size = sum(a.size for a in artifacts.values())
    summary = f"{len(res.install)} packages ({len(res.upgrades)} upgrades), {format_size(size)}"
    if res.removes:
        summary += f"; apt would remove {', '.join(res.removes)}"
    print(summary, file=sys.stderr)
    return 0
