"""``bosh-install fetch s3://BUCKET/PREFIX DIR``: download a published bundle, verified, resumable."""

from __future__ import annotations

import argparse
from pathlib import Path

from bundler.core.cliapp import print_json
from bundler.core.progress import TermProgress
from bundler.core.s3 import add_s3_options, fetch, parse_s3_url, s3_client, summary


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fetch", help="download a bundle published to S3 (or an S3-compatible store), verified")
    p.add_argument("url", metavar="s3://BUCKET/PREFIX")
    p.add_argument("dest", type=Path, metavar="DIR", help="directory to download the bundle into")
    p.add_argument("--site", type=Path, default=None, help="take credentials and endpoint from this site file")
    add_s3_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    loc = parse_s3_url(args.url)
    creds: dict = {"profile": args.profile, "region": args.region, "endpoint_url": args.endpoint_url}
    if args.site:
        from installer.site.model import load_site

        site = load_site(args.site)
        creds.update(
            profile=args.profile or site.aws.profile,
            access_key_id=site.aws.access_key_id,
            secret_access_key=site.aws.secret_access_key,
            region=args.region or site.aws.region,
            endpoint_url=args.endpoint_url or site.aws.endpoint_url,
        )
    bar = TermProgress(quiet=args.json)
    bar.bar.set_description("fetch")
    try:
        report = fetch(s3_client(**creds), loc, args.dest, progress=lambda _, n: bar.advance(n))
    finally:
        bar.close()
    if args.json:
        print_json(report.to_json())
    else:
        print(summary("fetched", loc, report))
        print(f"next: bosh-install verify {args.dest}")
    return 0
