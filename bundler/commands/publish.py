"""``bosh-bundle publish DIR s3://BUCKET/PREFIX``: upload a bundle directory, resumable and checksummed.

Imports only ``bundler.core`` (the upload lives in ``bundler.core.s3publish``, the AWS access in
``bundler.core.awssession``).
"""

from __future__ import annotations

import argparse

from bundler.core.awssession import TRANSFER, AwsAccess, add_arguments
from bundler.core.cliapp import (
    add_bundle_argument,
    add_dry_run_option,
    add_json_option,
    example,
    print_json,
    progress_for,
)
from bundler.core.s3 import parse_s3_url, summary
from bundler.core.s3publish import PART_SIZE, plan_publish, publish


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "publish",
        help="upload a bundle directory to S3 (or an S3-compatible store); resumable",
        description="Upload a bundle directory to S3 or an S3-compatible store: multipart, resumable (parts "
        "already uploaded are kept), each file checked against SHA256SUMS, which is uploaded last so a prefix "
        "with it holds a complete bundle.",
        epilog=example(
            "%(prog)s --bundle ./bundle s3://my-bucket/bosh/2026-12 --dry-run",
            "%(prog)s --bundle ./bundle s3://my-bucket/bosh/2026-12",
        ),
    )
    add_bundle_argument(p, help="the bundle directory (with SHA256SUMS)")
    p.add_argument("url", metavar="s3://BUCKET/PREFIX", help="where to upload: bucket and key prefix")
    p.add_argument(
        "--part-size", type=int, default=PART_SIZE // (1024 * 1024), metavar="MiB", help="multipart part size"
    )
    add_arguments(p)
    add_dry_run_option(p)
    add_json_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    loc = parse_s3_url(args.url)
    s3 = AwsAccess.from_args(args).client("s3", settings=TRANSFER)
    if args.dry_run:  # only reads of the store: what would be uploaded, skipped, resumed, withdrawn
        plan = plan_publish(s3, args.bundle, loc, part_size=args.part_size * 1024 * 1024)
        if args.json:
            print_json(plan.to_json())
        else:
            print("\n".join(plan.lines(loc)))
        return 0
    with progress_for(args).bar("publish") as bar:
        report = publish(s3, args.bundle, loc, part_size=args.part_size * 1024 * 1024, bar=bar)
    if args.json:
        print_json(report.to_json())
    else:
        print(summary("published", loc, report))
    return 0
