"""The ``director`` kind of ``bosh-install deploy`` and ``destroy``: argument handling and output for
``installer.deploy.director`` (the AWS preflight first unless ``--skip-preflight``; the state
directory locked while create-env or delete-env runs).

Imports the director deploy, the AWS checks, the manifests command's input options, the state lock
and the process runner.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from bundler.core.cliapp import print_json
from bundler.core.errors import InputError
from installer.aws.checks import require_preflight
from installer.commands.manifests import resolve_inputs
from installer.deploy import director
from installer.process import Runner
from installer.statelock import state_lock


def _show(line: str) -> None:
    print(f"  | {line}", flush=True)


def run_deploy(args: argparse.Namespace) -> int:
    lock, state = resolve_inputs(args)
    d = director.prepare(args.site, lock, state)
    if not args.plan and not args.skip_preflight:
        require_preflight(d.site, d.lock)
    runner = Runner(state.logs)
    progress = None if args.json else _show
    with contextlib.nullcontext() if args.plan else state_lock(state.path, "deploy"):
        planned = director.deploy(d, runner, args.bosh, progress, plan_only=args.plan)
    rows = []
    for p in planned:
        status = "done" if not p.run else f"would run ({p.status})" if args.plan else "ran"
        rows.append({"name": p.name, "status": status, "describe": p.step.describe,
                     "command": runner.shown(p.step.argv) if p.step.argv else ""})  # fmt: skip
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        print(f"{r['name']:24} {r['status']:22} {r['describe']}")
        if r["command"] and (args.plan or r["status"] != "done"):
            print(f"{'':24} $ {r['command']}")
    if not args.plan:
        print(f"the director is up; keep {d.layout.state} and {d.layout.creds}: bosh needs them to update or delete it")
    return 0


def confirm_destroy(kind: str, what: str, yes: bool) -> bool:
    """Whether ``destroy KIND`` goes on deleting ``what``: ``--yes``, or 'yes' typed on a terminal
    (off one, an ``InputError`` asks for ``--yes``)."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise InputError(f"destroy {kind} deletes {what}: confirm with --yes")
    if input(f"Delete {what}? Type 'yes' to continue: ").strip() == "yes":
        return True
    print("nothing deleted")
    return False


def run_destroy(args: argparse.Namespace) -> int:
    lock, state = resolve_inputs(args)
    d = director.prepare(args.site, lock, state)
    what = f"the director {d.vars['director_name']!r} (its VM and disk)"
    if args.dry_run:
        print(f"would delete {what}")
        return 0
    if not confirm_destroy("director", what, args.yes):
        return 1
    with state_lock(state.path, "destroy"):
        director.destroy(d, Runner(state.logs), args.bosh, _show)
    print(f"deleted {what}")
    return 0
