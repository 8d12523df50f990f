"""``bosh-bundle publish DIR s3://BUCKET/PREFIX``: upload a bundle directory, resumable and checksummed.

Imports only ``bundler.core`` (the upload lives in ``bundler.core.s3publish``, the AWS access in
``bundler.core.awssession``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bundler.core.awssession import TRANSFER, AwsAccess, add_arguments
from bundler.core.cliapp import print_json
from bundler.core.progress import TermProgress
from bundler.core.s3 import parse_s3_url, summary
from bundler.core.s3publish import PART_SIZE, publish


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish", help="upload a bundle directory to S3 (or an S3-compatible store); resumable")
    p.add_argument("bundle", type=Path, metavar="DIR", help="bundle directory (with SHA256SUMS)")
    p.add_argument("url", metavar="s3://BUCKET/PREFIX")
    p.add_argument(
        "--part-size", type=int, default=PART_SIZE // (1024 * 1024), metavar="MiB", help="multipart part size"
    )
    add_arguments(p)
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    loc = parse_s3_url(args.url)
    s3 = AwsAccess.from_args(args).client("s3", settings=TRANSFER)
    bar = TermProgress(quiet=args.json)
    bar.bar.set_description("publish")
    try:
        report = publish(
            s3, args.bundle, loc, part_size=args.part_size * 1024 * 1024, progress=lambda _, n: bar.advance(n)
        )
    finally:
        bar.close()
    if args.json:
        print_json(report.to_json())
    else:
        print(summary("published", loc, report))
    return 0
