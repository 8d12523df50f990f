"""``bosh-install fetch s3://BUCKET/PREFIX DIR``: download a published bundle, verified, resumable.

The AWS access is the command line's (``--profile``, ``--region``, ``--endpoint-url``) or, with
``--site``, the site file's (its keys or profile, region and endpoint; the command line wins where
both give a value), and its keys are kept out of the logs while the download runs.  It holds the
state directory's lock (``installer.statelock``) while it runs, as install and deploy do, when the
host has a state directory (a fetch before the first install has nothing to serialise with).
``--dry-run`` reads the published ``SHA256SUMS`` and says which files would be downloaded and which
are already complete in DIR; it writes nothing (not even DIR) and takes no lock.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
from pathlib import Path

from bundler.core.awssession import TRANSFER, AwsAccess, add_arguments
from bundler.core.cliapp import add_dry_run_option, add_json_option, example, print_json, progress_for
from bundler.core.s3 import fetch, parse_s3_url, plan_fetch, summary
from installer.aws.session import quiet_secrets
from installer.site.credentials import site_access
from installer.site.model import load_site
from installer.state import DEFAULT_STATE_DIR
from installer.statelock import state_lock


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fetch",
        help="download a bundle published to S3 (or an S3-compatible store), verified",
        description="Download a bundle published with 'bosh-bundle publish' from S3 or an S3-compatible store "
        "into DIR: resumable, each file checked against the published SHA256SUMS.  Credentials come from the "
        "command line or, with --site, the site file.",
        epilog=example("%(prog)s s3://my-bucket/bosh/2026-12 ./bundle --site site.yml"),
    )
    p.add_argument("url", metavar="s3://BUCKET/PREFIX", help="where the bundle was published: bucket and key prefix")
    p.add_argument("dest", type=Path, metavar="DIR", help="directory to download the bundle into")
    p.add_argument("--site", type=Path, default=None, help="take credentials and endpoint from this site file")
    p.add_argument(
        "--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="locked while fetching (default: %(default)s)"
    )
    add_arguments(p)
    add_dry_run_option(p)
    add_json_option(p)
    p.set_defaults(func=run)


def access_of(args: argparse.Namespace) -> AwsAccess:
    given = AwsAccess.from_args(args)
    if not args.site:
        return given
    from_site = site_access(load_site(args.site))
    return dataclasses.replace(
        from_site,
        profile=given.profile or from_site.profile,
        region=given.region or from_site.region,
        endpoint_url=given.endpoint_url or from_site.endpoint_url,
    )


def _lock(state_dir: Path) -> contextlib.AbstractContextManager:
    """The state directory's lock (one run at a time) when this host has one this user may write."""
    if state_dir.is_dir() and os.access(state_dir, os.W_OK):
        return state_lock(state_dir, "fetch")
    return contextlib.nullcontext()


def run(args: argparse.Namespace) -> int:
    loc = parse_s3_url(args.url)
    access = access_of(args)
    if args.dry_run:
        return _dry_run(args, access)
    with progress_for(args).bar("fetch") as bar, _lock(args.state_dir), quiet_secrets(access.secrets):
        report = fetch(access.client("s3", settings=TRANSFER), loc, args.dest, bar=bar)
    if args.json:
        print_json(report.to_json())
    else:
        print(summary("fetched", loc, report))
        print(f"next: bosh-install verify {args.dest}")
    return 0


def _dry_run(args: argparse.Namespace, access: AwsAccess) -> int:
    """What a fetch would download; reads the store and DIR, writes nothing, takes no lock."""
    loc = parse_s3_url(args.url)
    with quiet_secrets(access.secrets):
        plan = plan_fetch(access.client("s3", settings=TRANSFER), loc, args.dest)
    if args.json:
        print_json(plan.to_json())
    else:
        print("\n".join(plan.lines(loc, args.dest)))
    return 0
