"""``bosh-bundle inspect DIR``: what a bundle holds, from its lock and its volume list.

Imports only ``bundler.core``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import defaultdict
from pathlib import Path

from bundler.core.cliapp import add_bundle_argument, add_json_option, example, print_json
from bundler.core.errors import InputError
from bundler.core.lock import parse_lock, read_lock
from bundler.core.sbom import SBOM, build_sbom, dumps
from bundler.core.sizes import format_size
from bundler.core.sums import SUMS
from bundler.core.verify import LOCK
from bundler.core.volumes import find_volumes


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inspect",
        help="list what a bundle holds: artifacts by kind, sizes, trust, volumes",
        description="List what a bundle holds, from its lock and its volume list: the artifacts by kind with "
        "their versions, sizes and trust, the payload volumes and the other files.  Reads no payload.",
        epilog=example("%(prog)s --bundle ./bundle"),
    )
    add_bundle_argument(p)
    add_json_option(p)
    p.add_argument("--sbom", action="store_true", help=f"print the bundle's SBOM ({SBOM}, CycloneDX JSON)")
    p.set_defaults(func=run)


def print_sbom(bundle: Path) -> int:
    """The bundle's sbom.cdx.json as written; for a bundle built without one, the SBOM of its lock."""
    if not bundle.is_dir():
        raise InputError(f"{bundle}: no such bundle directory")
    if (bundle / SBOM).is_file():
        sys.stdout.write((bundle / SBOM).read_text(encoding="utf-8"))
        return 0
    lock_bytes = (bundle / LOCK).read_bytes() if (bundle / LOCK).is_file() else None
    if lock_bytes is None:
        raise InputError(f"{bundle}: neither {SBOM} nor {LOCK}: not a bundle directory")
    print(f"{bundle}: no {SBOM} (built by an older bosh-bundle); this is the SBOM of its {LOCK}", file=sys.stderr)
    lock = parse_lock(lock_bytes.decode("utf-8"), str(bundle / LOCK))
    sys.stdout.write(dumps(build_sbom(lock, hashlib.sha256(lock_bytes).hexdigest())))
    return 0


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
        "tool": lock.tool,
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
    if args.sbom:
        return print_sbom(args.bundle)
    info = inspect_bundle(args.bundle)
    if args.json:
        print_json(info)
        return 0
    target = " ".join(str(v) for _, v in sorted(info["target"].items()))
    tool = f" (locked by {info['tool']})" if info.get("tool") else ""
    print(f"{info['bundle']}: {info['spec'] or 'bundle'} for {target or 'unknown target'}{tool}")
    for kind, items in sorted(info["artifacts"].items()):
        size = sum(i["size"] for i in items)
        print(f"{kind} ({len(items)}, {format_size(size)})")
        for i in items:
            print(f"  {i['name']} {i['version']}  {format_size(i['size'])}  trust={i['trust']}")
    trust = ", ".join(f"{k}: {v}" for k, v in sorted(info["trust"].items()))
    print(f"total: {info['count']} artifacts, {format_size(info['total_size'])} ({trust})")
    vols = ", ".join(f"{v['name']} ({format_size(v['size'])})" for v in info["volumes"]) or "none"
    print(f"volumes: {vols}")
    if info["other_files"]:
        print(f"also: {', '.join(info['other_files'])}")
    return 0
