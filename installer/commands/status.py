"""``bosh-install status``: what the journal says about each install (and deploy) step.

Steps are listed in install order (then the deploy steps, then the final ``done``); a step left
``running`` by a killed run is shown as ``interrupted`` (unless a run holds the state directory's
lock now); facts are printed as text.  Exit 0 when every step is done, 1 otherwise.

Imports the journal, the install steps' order, the state lock and the state directory's layout.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bundler.core.cliapp import add_json_option, example, print_json
from installer.journal import Journal
from installer.state import StateDir
from installer.statelock import is_held
from installer.steps import STEPS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "status",
        help="show the install journal: each step's state, times and facts",
        description="Show the install journal: each install and deploy step's state, when it started and "
        "finished, and the facts it recorded.  Exit 0 when every step is done, 1 otherwise.",
        epilog=example("%(prog)s --root /mnt/target"),
    )
    p.add_argument("--root", type=Path, help="the root the install went into")
    p.add_argument("--state-dir", type=Path, help="the state directory (default ROOT/var/lib/bosh-offline)")
    add_json_option(p)
    p.set_defaults(func=run)


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t else "-"


def _text(value: object) -> str:
    """A fact as an operator reads it: lists as comma-separated words, not Python reprs."""
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_text(v)}" for k, v in sorted(value.items())) or "none"
    return str(value)


def ordered(journal: Journal) -> list[str]:
    """The install steps in install order, then the deploy steps in the order they started, then ``done``."""
    names = list(journal.steps)
    install = [n for n in STEPS if n in journal.steps]
    rest = sorted((n for n in names if n not in STEPS and n != "done"), key=lambda n: journal.steps[n].started)
    return install + rest + (["done"] if "done" in journal.steps else [])


def shown_state(state: str) -> str:
    return "interrupted" if state == "running" else state


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
    holder = is_held(state_dir)
    if args.json:
        steps = {n: journal.steps[n].__dict__ for n in ordered(journal)}  # in install order
        print_json({"state_dir": str(state_dir), "running_pid": holder, "steps": steps})
        return 0
    print(f"journal: {journal.path}")
    if holder is not None:
        print(f"a run is in progress (process {holder or '?'}); 'running' below means running now")
    for name in ordered(journal):
        rec = journal.steps[name]
        state = rec.state if holder is not None else shown_state(rec.state)
        facts = "; ".join(f"{k}: {_text(v)}" for k, v in sorted(rec.facts.items()))
        print(f"{name:16} {state:11} started {_when(rec.started)} finished {_when(rec.finished)}  {facts}".rstrip())
        if rec.error:
            print(f"{'':16} error: {rec.error}")
    return 0 if all(r.state == "done" for r in journal.steps.values()) else 1
