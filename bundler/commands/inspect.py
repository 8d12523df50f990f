"""``bosh-bundle inspect DIR``: what a bundle holds, from its lock and its volume list.

Imports only ``bundler.core``.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from bundler.core.cliapp import print_json
from bundler.core.errors import InputError
from bundler.core.lock import read_lock
from bundler.core.sums import SUMS
from bundler.core.verify import LOCK
from bundler.core.volumes import find_volumes


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="list what a bundle holds: artifacts by kind, sizes, trust, volumes")
    p.add_argument("bundle", type=Path, metavar="DIR", help="bundle directory")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=run)


def inspect_bundle(bundle: Path) -> dict:
    if not bundle.is_dir():
        raise InputError(f"{bundle}: no such bundle directory")
    lock = read_lock(bundle / LOCK)
    kinds: dict[str, list[dict]] = defaultdict(list)
    for a in sorted(lock.artifacts, key=lambda a: a.key):
        kinds[a.kind].append({"name": a.name, "version": a.version, "size": a.size, "trust": a.trust, "path": a.path})
    volumes = [{"name": v.name, "size": v.stat().st_size} for v in find_volumes(bundle)]
    other = sorted(
        p.name for p in bundle.iterdir() if p.is_file() and p.name not in {v["name"] for v in volumes} | {LOCK, SUMS}
    )
    trust: dict[str, int] = defaultdict(int)
    for a in lock.artifacts:
        trust[a.trust] += 1
    return {
        "bundle": str(bundle),
        "spec": lock.spec_name,
        "target": dict(lock.target),
        "artifacts": dict(kinds),
        "total_size": lock.total_size,
        "count": len(lock.artifacts),
        "trust": dict(trust),
        "volumes": volumes,
        "payload_size": sum(v["size"] for v in volumes),
        "other_files": other,
        "sums": (bundle / SUMS).is_file(),
    }


def run(args: argparse.Namespace) -> int:
    info = inspect_bundle(args.bundle)
    if args.json:
        print_json(info)
        return 0
    target = " ".join(str(v) for _, v in sorted(info["target"].items()))
    print(f"{info['bundle']}: {info['spec'] or 'bundle'} for {target or 'unknown target'}")
    for kind, items in sorted(info["artifacts"].items()):
        size = sum(i["size"] for i in items)
        print(f"{kind} ({len(items)}, {size / 1e6:.1f} MB)")
        for i in items:
            print(f"  {i['name']} {i['version']}  {i['size'] / 1e6:.1f} MB  trust={i['trust']}")
    trust = ", ".join(f"{k}: {v}" for k, v in sorted(info["trust"].items()))
    print(f"total: {info['count']} artifacts, {info['total_size'] / 1e6:.1f} MB ({trust})")
    vols = ", ".join(f"{v['name']} ({v['size'] / 1e6:.1f} MB)" for v in info["volumes"]) or "none"
    print(f"volumes: {vols}")
    if info["other_files"]:
        print(f"also: {', '.join(info['other_files'])}")
    return 0
