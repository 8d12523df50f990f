"""``bosh-bundle bosh check TARBALL…``: check release and stemcell tarballs an operator got elsewhere.

Each tarball is read once (streaming, never extracted): release or stemcell is told from its
manifest; every problem is printed, naming the tarball and the inner file; ``--region`` also
refuses a light stemcell with no AMI for that region; ``--stemcell`` refuses a compiled release whose
packages were compiled for another stemcell (OS and version).  Exit 0 when all are right, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bundler.core.bosh import compiled
from bundler.core.bosh.check import inspect_tarball, label
from bundler.core.bosh.stemcell import region_problem
from bundler.core.cliapp import add_json_option, example, print_json
from bundler.core.errors import InputError
from bundler.core.problems import Problem


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bosh",
        help="BOSH release and stemcell tarballs",
        description="Work on BOSH release and stemcell tarballs got outside a lock.",
        epilog=example("%(prog)s check bosh-aws-cpi-release-53.tgz light-bosh-stemcell-3363.tgz"),
    )
    bosh_sub = p.add_subparsers(dest="bosh_command", metavar="SUBCOMMAND", required=True)
    c = bosh_sub.add_parser(
        "check",
        help="check release/stemcell tarballs: manifests, inner sha1s, job packages, AMIs",
        description="Check release and stemcell tarballs an operator got elsewhere.  Each is read once "
        "(streaming, never extracted): release or stemcell is told from its manifest, every problem is printed "
        "naming the tarball and the inner file, and --region also refuses a light stemcell with no AMI for that "
        "region.  Exit 0 when all are right, 1 otherwise.",
        epilog=example("%(prog)s --region us-east-1 light-bosh-stemcell-3363-aws-xen-hvm-ubuntu-trusty-go_agent.tgz"),
    )
    c.add_argument("tarballs", nargs="+", type=Path, metavar="TARBALL", help="a release or stemcell tarball (.tgz)")
    c.add_argument("--region", help="AWS region a light stemcell must have an AMI for (e.g. us-east-1)")
    c.add_argument(
        "--stemcell", type=Path, metavar="STEMCELL.tgz", help="compiled releases must be compiled for this stemcell"
    )
    add_json_option(c)
    c.set_defaults(func=run_check)


def _stemcell(path: Path | None) -> list[compiled.StemcellIdentity]:
    if path is None:
        return []
    if not path.is_file():
        raise InputError(f"--stemcell {path}: no such file")
    found = inspect_tarball(path, kind="stemcell")
    if found.stemcell is None:
        raise InputError(f"--stemcell {path}: not a stemcell tarball ({'; '.join(found.problems)})")
    where = label("stemcell", found.name, found.version, str(path))
    return [compiled.StemcellIdentity(where, found.stemcell.operating_system, found.version)]


def check_one(path: Path, region: str | None, stemcells: list[compiled.StemcellIdentity] = ()) -> dict:
    found = inspect_tarball(path, digests=("sha1", "sha256"))
    problems = list(found.problems)
    if found.release is not None and stemcells:
        problems += [p.message for p in compiled.release_problems("", compiled.compiled_for(path), stemcells)]
    if region and found.stemcell is not None and found.variant == "light":
        missing = region_problem(found.stemcell, region)
        if missing:
            problems.append(missing)
    where = label(found.kind, found.name, found.version, str(path))
    report = {
        "path": str(path),
        **found.facts(),
        "sha1": found.scan.digests.get("sha1"),
        "sha256": found.scan.digests.get("sha256"),
        "size": found.scan.size,
        "problems": [str(Problem(where, p)) for p in problems],
        "ok": not problems,
    }
    return report


def run_check(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.tarballs if not p.is_file()]
    if missing:
        raise InputError(f"no such file: {', '.join(missing)}")
    stemcells = _stemcell(args.stemcell)
    reports = [check_one(p, args.region, stemcells) for p in args.tarballs]
    if args.json:
        print_json({"ok": all(r["ok"] for r in reports), "tarballs": reports})
    else:
        for r in reports:
            if r["ok"]:
                extra = ""
                if r.get("variant") == "light":
                    extra = f", AMIs in {', '.join(r.get('ami') or {}) or 'no region'}"
                elif r.get("variant"):
                    extra = f", {r['variant']}"
                print(f"ok: {label(r['kind'], r['name'], r['version'], r['path'])}{extra}")
            for line in r["problems"]:
                print(line, file=sys.stderr)
    bad = sum(not r["ok"] for r in reports)
    if bad and not args.json:
        print(f"bosh-bundle: {bad} of {len(reports)} tarball(s) failed the check", file=sys.stderr)
    return 1 if bad else 0
