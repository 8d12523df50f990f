"""``bosh-bundle diff OLD.lock NEW.lock``: what a new lock adds, removes and changes.

Imports ``bundler.lockdiff`` and ``bundler.core``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bundler.core.cliapp import print_json
from bundler.core.lock import read_lock
from bundler.lockdiff import diff_locks


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help="compare two locks: added, removed and changed artifacts")
    p.add_argument("old", type=Path, metavar="OLD.lock")
    p.add_argument("new", type=Path, metavar="NEW.lock")
    p.add_argument("--json", action="store_true", help="print the difference as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    diff = diff_locks(read_lock(args.old), read_lock(args.new))
    if args.json:
        print_json(diff.to_json())
        return 0
    if diff.empty:
        print("no differences")
        return 0
    for a in diff.added:
        print(f"+ {a.kind} {a.name} {a.version} ({a.path}, {a.size} bytes)")
    for a in diff.removed:
        print(f"- {a.kind} {a.name} {a.version} ({a.path})")
    for c in diff.changed:
        if c.old.version != c.new.version:
            what = f"{c.old.version} -> {c.new.version}"
        else:
            what = f"{c.new.version}: " + ", ".join(c.fields) + " changed"
        print(f"~ {c.new.kind} {c.new.name} {what}")
    added = sum(a.size for a in diff.added) + sum(c.new.size for c in diff.changed if c.old.sha256 != c.new.sha256)
    print(
        f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed;"
        f" {added / 1e6:.1f} MB of new content"
    )
    return 0
