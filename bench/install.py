"""Benchmark: ``sh install.sh --yes`` against the same steps typed by hand, each in a fresh root.

    python3 bench/install.py --bundle DIR [--upgrade DIR2 ...] [--root-tar TAR] [--keep]

Both runs start from the same root tarball (default: the e2e test's debootstrapped Debian 12
minbase, ``$BOSH_OFFLINE_E2E_CACHE/bookworm-minbase.tar``) and run under ``unshare --net`` in
``chroot``.  Ours: the whole ``install.sh`` (SHA256SUMS check, bootstrap, runtime debs, verify,
extract, debs, Ruby, gems, CLIs, journal).  By hand: the payload is unpacked beforehand (not timed),
then one shell script does what the guide does: ``dpkg -i`` of the lock's install order, unpack
the Ruby source, ``configure``, ``make -jN``, ``make install``, ``gem install --local --no-document``,
copy the CLIs to /usr/local/bin.  Prints both times and ours/by-hand (goal: <= 1.05).  Each
``--upgrade DIR2`` (a newer bundle with, say, one stemcell or one binary changed: the full bundle,
or its delta from ``bosh-bundle build --since``) is then installed on top of a copy of ours, and its
size and time are printed beside the full bundle's: only the changed artifacts are extracted and
only the steps that consume them run again.

Imports the bundle core (lock, extraction, deb stages) only; ours runs as the operator runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bundler.core.deb.stages import stages  # noqa: E402
from bundler.core.extract import extract_payload  # noqa: E402
from bundler.core.lock import read_lock  # noqa: E402

ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}


def fresh_root(tar: Path, where: Path) -> Path:
    where.mkdir(parents=True)
    subprocess.run(["tar", "-C", str(where), "--numeric-owner", "-xf", str(tar)], check=True)
    return where


def offline(root: Path, *argv: str) -> float:
    cmd = ["unshare", "--net", "--mount", "--fork", f"--mount-proc={root}/proc", "chroot", str(root), *argv]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed in {root} (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return elapsed


def by_hand_script(bundle: Path, payload: Path, jobs: int) -> str:
    """The guide's steps as one sh script over the unpacked payload (``payload``, /root/payload inside).

    ``dpkg -i`` runs once per Pre-Depends stage, as apt would (one call fails on python3-minimal)."""
    lock = read_lock(bundle / "bundle.lock")
    order = lock.debs.install_order
    lines = ["set -e", "export DEBIAN_FRONTEND=noninteractive"]
    for group in stages([payload / p for p in order]) if order else []:
        names = " ".join(shlex.quote(f"/root/payload/{d.relative_to(payload).as_posix()}") for d in group)
        lines.append(f"dpkg -i {names} >/dev/null")
    ruby = lock.by_kind("ruby-source")
    if ruby:
        prefix = lock.ruby.prefix or "/usr/local"
        configure = " ".join(shlex.quote(a) for a in lock.ruby.configure)
        lines += [
            "mkdir -p /root/build && cd /root/build",
            f"tar -xf /root/payload/{ruby[0].path}",
            "cd */",
            f"./configure --prefix={prefix} {configure} >/dev/null",
            f"make -j{jobs} >/dev/null",
            "make install >/dev/null",
        ]
    gems = lock.gems.install_order or [a.path for a in lock.by_kind("gem")]
    if gems:
        names = " ".join(shlex.quote(p.rsplit("/", 1)[-1]) for p in gems)
        gem = f"{lock.ruby.prefix or '/usr/local'}/bin/gem" if ruby else "gem"
        lines.append(f"cd /root/payload/gems && {gem} install --local --no-document {names} >/dev/null")
    for art in lock.by_kind("binary"):
        lines.append(f"install -m 0755 /root/payload/{art.path} /usr/local/bin/{art.name}")
    return "\n".join(lines) + "\n"


def bundle_bytes(bundle: Path) -> int:
    return sum(p.stat().st_size for p in bundle.iterdir() if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, required=True, help="a bundle directory built by bosh-bundle build")
    cache = Path(os.environ.get("BOSH_OFFLINE_E2E_CACHE", "/var/cache/bosh-offline-e2e"))
    parser.add_argument("--root-tar", type=Path, default=cache / "bookworm-minbase.tar")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", action="store_true", help="keep the two roots")
    parser.add_argument(
        "--upgrade", type=Path, nargs="*", default=[], help="newer bundles to install on top of ours, each timed"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-install-", dir="/var/tmp"))
    try:
        ours_root = fresh_root(args.root_tar, work / "ours")
        shutil.copytree(args.bundle, ours_root / "root/bundle")
        ours = offline(ours_root, "sh", "/root/bundle/install.sh", "--yes", f"--jobs={args.jobs}")
        upgrades = []
        for i, newer in enumerate(args.upgrade):
            copy = work / f"upgrade-{i}"
            subprocess.run(["cp", "-a", str(ours_root), str(copy)], check=True)
            shutil.copytree(newer, copy / "root/upgrade")
            upgrades.append((newer, offline(copy, "sh", "/root/upgrade/install.sh", "--yes", f"--jobs={args.jobs}")))
            shutil.rmtree(copy, ignore_errors=True)

        hand_root = fresh_root(args.root_tar, work / "hand")
        lock = read_lock(args.bundle / "bundle.lock")
        extract_payload(args.bundle, hand_root / "root/payload", lock)  # untimed: the operator's 7z x
        script = by_hand_script(args.bundle, hand_root / "root/payload", args.jobs)
        (hand_root / "root/by-hand.sh").write_text(script)
        hand = offline(hand_root, "sh", "/root/by-hand.sh")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    result = {"ours_s": round(ours, 1), "by_hand_s": round(hand, 1), "ratio": round(ours / hand, 3)}
    print(f"install.sh --yes: {ours:.1f} s   by hand: {hand:.1f} s   ratio {ours / hand:.3f} (goal <= 1.05)")
    if upgrades:
        result["bundle_bytes"] = bundle_bytes(args.bundle)
        print(f"first install: {args.bundle} {result['bundle_bytes'] / 1e6:.1f} MB, {ours:.1f} s")
    for newer, seconds in upgrades:
        size = bundle_bytes(newer)
        kind = "delta" if (newer / "delta.json").is_file() else "full"
        result.setdefault("upgrades", []).append(
            {"bundle": str(newer), "kind": kind, "bytes": size, "s": round(seconds, 1)}
        )
        print(f"on top ({kind} bundle): {newer} {size / 1e6:.1f} MB, {seconds:.1f} s")
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
