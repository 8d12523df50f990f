"""``bosh-bundle resplit DIR --volume-size SIZE --out NEW``: the same bundle in volumes of another size.

Imports ``bundler.resplit`` and ``bundler.core``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bundler.core.archive import needs_password
from bundler.core.cliapp import add_bundle_argument, add_dry_run_option, example, progress_for
from bundler.core.password import read_password
from bundler.core.signing import signing_key
from bundler.core.sizes import format_size
from bundler.core.volumes import parse_size
from bundler.resplit import plan_resplit, resplit_bundle


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "resplit",
        help="cut a bundle's payload into volumes of another size (nothing downloaded), verified",
        description="Write the bundle again with its payload in volumes of SIZE: e.g. from one 4g file for a USB "
        "stick to 700m volumes for DVDs, or 'none' for one payload.7z.  The payload bytes are the same, only "
        "the volume boundaries move; every file is checked against the old SHA256SUMS as it is read, a new "
        "SHA256SUMS is written and the result verified before it appears at --out.  A signature "
        "(SHA256SUMS.gpg) does not carry over: give --sign-key to sign the new one.",
        epilog=example("%(prog)s ./bundle --volume-size 700m --out ./bundle-dvd"),
    )
    add_bundle_argument(p, help="the bundle directory to re-split")
    p.add_argument(
        "--volume-size",
        required=True,
        metavar="SIZE",
        help="size of each new volume (4g for FAT32 media, 700m for CDs, 'none' for one payload.7z)",
    )
    p.add_argument("--out", type=Path, required=True, help="bundle directory to create (must not exist or be empty)")
    p.add_argument("--jobs", type=int, default=None, help="parallel hashing (default: one per core)")
    p.add_argument("--sign-key", default=None, metavar="KEYID", help="sign the new SHA256SUMS with this gpg key")
    add_dry_run_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    size = None if args.volume_size.strip().lower() == "none" else parse_size(args.volume_size)
    if args.sign_key:
        signing_key(args.sign_key)  # a key gpg does not have fails now, not after the copy
    if args.dry_run:
        plan = plan_resplit(args.bundle, args.out, size)
        print(
            f"{plan.out}: would cut the payload ({format_size(plan.payload_bytes)}) from {len(plan.old_volumes)} "
            f"into {len(plan.volumes)} volume(s) ({_names(plan.volumes)}) and copy {len(plan.others)} other file(s)"
        )
        print("dry run: nothing was changed")
        return 0
    password = None
    if args.bundle.is_dir() and needs_password(args.bundle):
        password = read_password(confirm=False)  # the final verify reads the members
    result = resplit_bundle(
        args.bundle,
        args.out,
        size,
        password=password,
        jobs=args.jobs,
        progress=progress_for(args),
        sign_key=args.sign_key,
    )
    signature = ""
    if result.dropped_signature and not args.sign_key:
        signature = "; SHA256SUMS.gpg not carried over (sign again: bosh-bundle sign)"
    print(
        f"{result.out}: payload {format_size(result.payload_bytes)} in {len(result.volumes)} volume(s)"
        f" ({', '.join(result.volumes)}; was {len(result.old_volumes)}), verified: OK"
        f" ({result.report.members_checked} payload members){signature}"
    )
    return 0


def _names(volumes: tuple[str, ...]) -> str:
    return ", ".join(volumes) if len(volumes) <= 3 else f"{volumes[0]} … {volumes[-1]}"
