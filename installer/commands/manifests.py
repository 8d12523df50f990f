"""``bosh-install manifests render|check``: the two deployment manifests, for operators who want to look first.

``render`` writes ``microbosh.yml`` and ``bosh.yml`` (mode 0600: they hold generated secrets) into
``--out`` after checking them; ``check`` only reports.  Both list every problem, each naming the
site field to change.  The BOSH manifest needs MicroBOSH's director UUID: ``--director-uuid``, or
the one ``bosh-install deploy microbosh`` recorded in the state dir; without either it is rendered
with a placeholder and its UUID is not checked.  Imports the deploy preparation, the manifests
package and the state directory's layout.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bundler.core.cliapp import add_dry_run_option, add_json_option, example, print_json
from installer.deploy import prepared as deploy
from installer.manifests import render as manifests
from installer.manifests.check import raise_if_any
from installer.state import DEFAULT_STATE_DIR, StateDir


def add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--site", type=Path, default=Path("site.yml"), help="the site file (default: site.yml)")
    p.add_argument("--bundle", type=Path, metavar="DIR", help="the bundle directory (its bundle.lock is used)")
    p.add_argument("--lock", type=Path, help="the bundle lock (default: BUNDLE/bundle.lock)")
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="installer state (default: %(default)s)")
    p.add_argument("--payload", type=Path, help="where the payload was extracted (default: STATE_DIR/payload)")


def resolve_inputs(args: argparse.Namespace) -> tuple[Path, StateDir]:
    lock = args.lock or (args.bundle / "bundle.lock" if args.bundle else Path("bundle.lock"))
    return lock, StateDir(args.state_dir.absolute(), args.payload.absolute() if args.payload else None)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "manifests",
        help="render or check the MicroBOSH and BOSH manifests",
        description="Render or check the MicroBOSH and BOSH deployment manifests from the site file and the "
        "bundle, for operators who want to look first.  Every problem names the site field to change.",
        epilog=example("%(prog)s check --site site.yml --bundle ./bundle"),
    )
    msub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, helptext, what in (
        ("render", "check, then write the manifests", "Check the manifests, then write them into --out (mode 0600)"),
        ("check", "only check", "Check the manifests and write nothing"),
    ):
        a = msub.add_parser(
            action,
            help=helptext,
            description=f"{what}: the MicroBOSH and BOSH manifests rendered from the site file and the bundle's "
            "lock.  Every problem names the site field to change.",
            epilog=example(f"%(prog)s --site site.yml --bundle ./bundle{' --out ./manifests' * (action == 'render')}"),
        )
        add_input_options(a)
        a.add_argument("--only", choices=manifests.KINDS, help="just this manifest")
        a.add_argument("--director-uuid", help="MicroBOSH's UUID for the BOSH manifest")
        if action == "render":
            a.add_argument("--out", type=Path, required=True, help="directory to write the manifests into")
            add_dry_run_option(a)
        add_json_option(a)
        a.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    lock, paths = resolve_inputs(args)
    kinds = [args.only] if args.only else list(manifests.KINDS)
    uuid = args.director_uuid or deploy.recorded_uuid(paths.path)
    prepared = deploy.prepare(args.site, lock, paths, kinds, uuid, args.bundle)
    written: list[str] = []
    dry_run = getattr(args, "dry_run", False)
    if args.action == "render" and not prepared.problems and not dry_run:
        written = [str(manifests.write(prepared.rendered[k], args.out)) for k in kinds]
    if args.json:
        print_json({"ok": not prepared.problems, "problems": prepared.problems, "written": written})
        return 2 if prepared.problems else 0
    raise_if_any(prepared.problems)
    for path in written:
        print(f"wrote {path}")
    if dry_run:
        print(f"no problems found in {args.site}; would write {', '.join(kinds)} into {args.out}")
    if args.action == "check":
        print(f"{', '.join(kinds)}: no problems found in {args.site}")
    if "bosh" in kinds and not uuid:
        print("note: the BOSH manifest's director_uuid is a placeholder until MicroBOSH is up")
    return 0
