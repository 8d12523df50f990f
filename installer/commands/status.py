"""``bosh-install status``: what the journal says about each install (and deploy) step.

Imports the journal and the state directory's layout.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bundler.core.cliapp import print_json
from installer.journal import Journal
from installer.state import StateDir


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="show the install journal: each step's state, times and facts")
    p.add_argument("--root", type=Path, help="the root the install went into")
    p.add_argument("--state-dir", type=Path, help="the state directory (default ROOT/var/lib/bosh-offline)")
    p.add_argument("--json", action="store_true", help="print the journal as JSON")
    p.set_defaults(func=run)


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t else "-"


def run(args: argparse.Namespace) -> int:
    root = args.root.absolute() if args.root else Path("/")
    state_dir = StateDir.for_root(root, args.root is not None, args.state_dir).path
    journal = Journal.read(state_dir)
    if not journal.exists:
        if args.json:
            print_json({"state_dir": str(state_dir), "steps": {}})
        else:
            print(f"{state_dir}: no install has run yet")
        return 0
    if args.json:
        print_json({"state_dir": str(state_dir), "steps": {n: r.__dict__ for n, r in journal.steps.items()}})
        return 0
    print(f"journal: {journal.path}")
    for name, rec in journal.steps.items():
        facts = ", ".join(f"{k}={v}" for k, v in sorted(rec.facts.items()))
        print(f"{name:8} {rec.state:8} started {_when(rec.started)} finished {_when(rec.finished)}  {facts}")
        if rec.error:
            print(f"         error: {rec.error}")
    return 0 if all(r.state == "done" for r in journal.steps.values()) else 1
