"""``bosh-install deploy microbosh|bosh|director`` and ``bosh-install destroy microbosh|bosh|director``.

Deploy renders and checks the manifests (``installer.deploy.prepared``: nothing runs while the site
file has a problem), runs the AWS preflight (``installer.aws.checks``), then the journaled steps of
``installer.deploy.driver``; re-running resumes after the last step done.  ``--plan`` shows the
steps and the commands they run (secrets redacted) without running anything.  Destroy asks for
confirmation unless ``--yes`` and says what it deleted (nothing, when bosh-init has no state file).

Imports the deploy package, the AWS checks, the manifests command's input options and the runner.
"""

from __future__ import annotations

import argparse
import contextlib

from bundler.core.cliapp import add_dry_run_option, add_json_option, add_yes_option, example, print_json
from bundler.core.errors import InputError
from installer.aws.checks import require_preflight
from installer.commands import deploy_director
from installer.commands.manifests import add_input_options, resolve_inputs
from installer.deploy.driver import Deployer, Tools
from installer.deploy.prepared import Prepared, prepare, recorded_uuid
from installer.manifests.check import raise_if_any
from installer.process import Runner
from installer.statelock import state_lock

KINDS = ("microbosh", "bosh", "director")  # director: bosh create-env (installer.commands.deploy_director)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=KINDS, help="microbosh (bosh-init) first, then bosh; or director (bosh create-env)")
    add_input_options(p)
    p.add_argument("--bosh-init", default="bosh-init", help="the bosh-init executable (default: on PATH)")
    p.add_argument("--bosh", default="bosh", help="the bosh CLI executable: v1, or v2 for director (default: on PATH)")
    add_yes_option(p)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "deploy",
        help="deploy MicroBOSH with bosh-init, or BOSH with MicroBOSH",
        description="Deploy MicroBOSH with bosh-init, or BOSH with MicroBOSH: render and check the manifests "
        "(nothing runs while the site file has a problem), run the AWS preflight, then the journaled steps; "
        "re-running resumes after the last step done.",
        epilog=example("%(prog)s microbosh --site site.yml --bundle ./bundle"),
    )
    _common(p)
    p.add_argument("--skip-preflight", action="store_true", help="do not run the AWS preflight checks")
    add_dry_run_option(p, "--plan", dest="plan")
    add_json_option(p)
    p.set_defaults(func=run_deploy)
    d = sub.add_parser(
        "destroy",
        help="delete MicroBOSH (bosh-init delete) or the BOSH deployment",
        description="Delete MicroBOSH (bosh-init delete) or the BOSH deployment, after asking (unless --yes).",
        epilog=example("%(prog)s bosh --site site.yml --bundle ./bundle --yes"),
    )
    _common(d)
    add_dry_run_option(d)
    d.set_defaults(func=run_destroy)


def _prepare(args: argparse.Namespace) -> Prepared:
    lock, state = resolve_inputs(args)
    uuid = recorded_uuid(state.path)
    if args.kind == "bosh" and not uuid:
        raise InputError(f"{state.path}: MicroBOSH is not deployed from here yet; run 'bosh-install deploy microbosh'")
    kinds = ["microbosh"] if args.kind == "microbosh" else ["microbosh", "bosh"]
    prepared = prepare(args.site, lock, state, kinds, uuid, args.bundle)
    raise_if_any(prepared.problems)
    return prepared


def _show(line: str) -> None:
    print(f"  | {line}", flush=True)


def _deployer(args: argparse.Namespace, prepared: Prepared) -> Deployer:
    runner = Runner(prepared.state.logs)
    progress = None if getattr(args, "json", False) else _show  # long commands: show their (redacted) output
    return Deployer(prepared, runner, Tools(args.bosh_init, args.bosh), progress)


def run_deploy(args: argparse.Namespace) -> int:
    if args.kind == "director":
        return deploy_director.run_deploy(args)
    prepared = _prepare(args)
    if not args.plan and not args.skip_preflight:
        require_preflight(prepared.site, prepared.lock)
    deployer = _deployer(args, prepared)
    with contextlib.nullcontext() if args.plan else state_lock(prepared.state.path, "deploy"):
        reports = deployer.deploy(args.kind, plan_only=args.plan)
    if args.json:
        print_json([r.__dict__ for r in reports])
        return 0
    for r in reports:
        print(f"{r.name:24} {r.status:22} {r.describe}")
        if r.command and (args.plan or r.status != "done"):
            print(f"{'':24} $ {r.command}")
    if not args.plan:
        facts = deployer.journal.facts("microbosh.uuid")
        if args.kind == "microbosh" and facts.get("uuid"):
            print(f"MicroBOSH is up at {facts['url']} (director UUID {facts['uuid']})")
            print(f"keep {prepared.state.saved_state()}: bosh-init needs it to update or delete MicroBOSH")
        elif args.kind == "bosh":
            print(f"BOSH is deployed (logs: {prepared.state.logs})")
    return 0


def run_destroy(args: argparse.Namespace) -> int:
    if args.kind == "director":
        return deploy_director.run_destroy(args)
    prepared = _prepare(args)
    what = "the MicroBOSH VM and its disk" if args.kind == "microbosh" else f"the deployment {prepared.site.name!r}"
    if args.dry_run:
        print(f"would delete {what}")
        return 0
    if not deploy_director.confirm_destroy(args.kind, what, args.yes):
        return 1
    with state_lock(prepared.state.path, "destroy"):
        print(_deployer(args, prepared).destroy(args.kind))
    return 0
