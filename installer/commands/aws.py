"""``bosh-install aws check|prepare|teardown``: the AWS side of the guide, checked and automated.

Imports the ``installer.aws`` package, the site model and the lock.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bundler.core.cliapp import add_dry_run_option, add_json_option, example, print_json
from bundler.core.lock import read_lock
from installer.aws.checks import Check, preflight
from installer.aws.owned import Outcome
from installer.aws.prepare import prepare
from installer.aws.session import clients_for, quiet_secrets
from installer.aws.teardown import teardown
from installer.site.model import load_site


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "aws",
        help="check, prepare or tear down the AWS resources of a site",
        description="Check, prepare or tear down the AWS resources the site file names: the AWS side of the "
        "guide, checked (read-only) or automated.",
        epilog=example("%(prog)s check --site site.yml --bundle ./bundle"),
    )
    actions = p.add_subparsers(dest="aws_command", metavar="ACTION", required=True)

    check = actions.add_parser(
        "check",
        help="read-only preflight of the AWS account against the site file",
        description="Read-only preflight of the AWS account against the site file: credentials, region and zone, "
        "VPC, subnet, addresses, key pair, security group rules, quotas and the stemcell's AMI.  Each failed "
        "check names the fix and the site field.  Exit 0 when all pass, 1 otherwise.",
        epilog=example("%(prog)s --site site.yml --bundle ./bundle"),
    )
    _site_option(check)
    check.add_argument("--bundle", type=Path, default=None, metavar="DIR", help="the bundle directory (its lock)")
    check.add_argument("--lock", type=Path, default=None, help="bundle.lock, to check the stemcell's AMI and type")
    add_json_option(check)
    check.set_defaults(func=run_check)

    prepare = actions.add_parser(
        "prepare",
        help="create what the site lacks (VPC, subnet, gateway, elastic IP, key pair, group); idempotent",
        description="Create what the site file does not name (VPC, subnet, internet gateway and default route, "
        "elastic IP, key pair, security group with the guide's rules), reuse and repair what prepare created "
        "before, and write the ids into the site file.  Resources it did not create are never changed.",
        epilog=example("%(prog)s --site site.yml --dry-run", "%(prog)s --site site.yml"),
    )
    _site_option(prepare)
    add_dry_run_option(prepare)
    add_json_option(prepare)
    prepare.set_defaults(func=run_prepare)

    teardown = actions.add_parser(
        "teardown",
        help="delete exactly the resources prepare created for this site",
        description="Delete the resources tagged as this site's by prepare (elastic IPs, key pairs, security "
        "groups, subnets, internet gateways, VPCs), after checking no instance runs in them, and empty their "
        "ids in the site file.",
        epilog=example("%(prog)s --site site.yml --dry-run", "%(prog)s --site site.yml"),
    )
    _site_option(teardown)
    add_dry_run_option(teardown)
    add_json_option(teardown)
    teardown.set_defaults(func=run_teardown)


def _site_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--site", type=Path, default=Path("site.yml"), help="site file (default: site.yml)")


def format_checks(checks: list[Check]) -> str:
    width = max([len("CHECK")] + [len(c.name) for c in checks])
    lines = [f"{'CHECK':<{width}}  RESULT  DETAIL"]
    pad = " " * (width + 10)
    for c in checks:
        lines.append(f"{c.name:<{width}}  {c.status:<6}  {c.detail}")
        if c.status == "FAIL":
            if c.fix:
                lines.append(f"{pad}fix: {c.fix}")
            if c.field:
                lines.append(f"{pad}at:  {c.field}")
    failed = sum(c.status == "FAIL" for c in checks)
    lines.append(f"{failed} check(s) failed" if failed else "all checks passed")
    return "\n".join(lines)


def run_check(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    lock_path = args.lock or (args.bundle / "bundle.lock" if args.bundle else None)
    lock = read_lock(lock_path) if lock_path else None
    clients = clients_for(site)
    with quiet_secrets(clients.secrets):
        checks = preflight(site, lock, clients)
    ok = all(c.ok for c in checks)
    if args.json:
        print_json({"ok": ok, "checks": [c.to_json() for c in checks]})
    else:
        print(format_checks(checks))
    return 0 if ok else 1


def _report(outcome: Outcome, as_json: bool) -> int:
    if as_json:
        print_json(outcome.to_json())
    else:
        for line in outcome.actions:
            print(line)
        for line in outcome.problems:
            print(f"NOT FIXED: {line}")
        if outcome.dry_run:
            print("dry run: nothing was changed" if outcome.actions else "dry run: nothing to change")
    return 1 if outcome.problems else 0


def _run_with_site(args: argparse.Namespace, action) -> int:
    site = load_site(args.site)
    clients = clients_for(site)
    with quiet_secrets(clients.secrets):
        outcome = action(site, clients, dry_run=args.dry_run)
    return _report(outcome, args.json)


def run_prepare(args: argparse.Namespace) -> int:
    return _run_with_site(args, prepare)


def run_teardown(args: argparse.Namespace) -> int:
    return _run_with_site(args, teardown)
