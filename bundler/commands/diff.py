"""``bosh-bundle diff OLD.lock NEW.lock``: what a new lock adds, removes and changes.

Imports ``bundler.lockdiff`` and ``bundler.core``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bundler.core.cliapp import add_json_option, example, print_json
from bundler.core.lock import read_lock
from bundler.core.sizes import format_size
from bundler.lockdiff import diff_locks


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diff",
        help="compare two locks: added, removed and changed artifacts",
        description="Compare two locks: the artifacts the new one adds, removes and changes, and how much new "
        "content a bundle built from it carries.  Exit 0 when the locks are the same, 1 when they differ, "
        "2 on bad input (as diff does).",
        epilog=example("%(prog)s bundle.lock.old bundle.lock"),
    )
    p.add_argument("old", type=Path, metavar="OLD.lock", help="the lock to compare from")
    p.add_argument("new", type=Path, metavar="NEW.lock", help="the lock to compare to")
    add_json_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    old, new = read_lock(args.old), read_lock(args.new)
    diff = diff_locks(old, new)
    if args.json:
        print_json(diff.to_json())
        return 0 if diff.empty else 1
    if diff.empty and old.sections != new.sections:
        print("the same artifacts; the install order or another section differs")
        return 1
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
        f" {format_size(added)} of new content"
    )
    return 1
