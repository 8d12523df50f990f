"""Benchmark: verifying a >= 2 GB bundle, ours against ``sha256sum -c SHA256SUMS`` and one core of hashlib.

The bundle (random artifacts, a lock, a split payload, SHA256SUMS) is generated under /tmp and
removed afterwards.  References:

- ``sha256sum -c SHA256SUMS``: what an operator runs by hand (checks the files only);
- one core of hashlib over the same files (SHA256SUMS only);
- one core of hashlib doing what ours does: the files *and* every payload member.

Ours (``verify_bundle``) checks SHA256SUMS and then every payload member against the lock, so it
hashes each byte twice; the fair ratio is against the third line.  Goals: faster than sha256sum;
>= 1.5x one core with 2 cores.

    python3 bench/verify.py [--total-mb 2100] [--files 42] [--volume-size 512m]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bundler.core.archive import write_payload  # noqa: E402
from bundler.core.digest import sha256_file  # noqa: E402
from bundler.core.lock import Artifact  # noqa: E402
from bundler.core.sums import parse_sums, write_sums  # noqa: E402
from bundler.core.verify import verify_bundle  # noqa: E402
from bundler.core.volumes import parse_size  # noqa: E402
from tests.support.synthetic import write_test_lock  # noqa: E402


def make_bundle(tmp: Path, total: int, count: int, volume_size: int | None) -> Path:
    src = tmp / "src"
    src.mkdir()
    members, artifacts = [], []
    per = total // count
    for i in range(count):
        path = src / f"pkg-{i:03d}.deb"
        h = hashlib.sha256()
        with open(path, "wb") as f:
            left = per
            while left:
                block = os.urandom(min(left, 16 * 1024 * 1024))
                f.write(block)
                h.update(block)
                left -= len(block)
        name = f"debs/{path.name}"
        members.append((name, path))
        artifacts.append(Artifact("deb", f"pkg-{i:03d}", "1", "http://127.0.0.1/x", per, h.hexdigest(), "pinned", name))
    bundle = tmp / "bundle"
    bundle.mkdir()
    write_payload(bundle, members, volume_size=volume_size)
    shutil.rmtree(src)
    write_test_lock(bundle / "bundle.lock", artifacts)
    write_sums(bundle)
    return bundle


def one_core(bundle: Path, with_members: bool) -> float:
    t0 = time.perf_counter()
    listed, _ = parse_sums((bundle / "SHA256SUMS").read_text())
    for name in sorted(listed):
        sha256_file(bundle / name)
    if with_members:
        from bundler.core.archive import Payload
        from bundler.core.volumes import find_volumes

        with Payload(find_volumes(bundle)) as payload:
            for m in payload.members:
                h = hashlib.sha256()
                for block in payload.iter_member(m):
                    h.update(block)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--total-mb", type=int, default=2100)
    ap.add_argument("--files", type=int, default=42)
    ap.add_argument("--volume-size", default="512m", help="split size, or 'none' for one payload.7z")
    args = ap.parse_args()
    volume_size = None if args.volume_size == "none" else parse_size(args.volume_size)
    tmp = Path(tempfile.mkdtemp(prefix="bench-verify.", dir="/tmp"))
    try:
        bundle = make_bundle(tmp, args.total_mb * 1024 * 1024, args.files, volume_size)
        size = sum(p.stat().st_size for p in bundle.iterdir())
        sha256_file(bundle / "bundle.lock")
        subprocess.run(["cat"] + [str(p) for p in bundle.iterdir()], stdout=subprocess.DEVNULL, check=True)

        t0 = time.perf_counter()
        report = verify_bundle(bundle)
        ours = time.perf_counter() - t0
        assert report.ok, report.problems

        t0 = time.perf_counter()
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=bundle, check=True)
        coreutils = time.perf_counter() - t0

        files_only = one_core(bundle, with_members=False)
        same_work = one_core(bundle, with_members=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    vols = len(report.volumes)
    print(f"bundle: {size / 1e9:.2f} GB, {vols} volume(s), {report.members_checked} members, {os.cpu_count()} cores")
    rows = [
        ("ours: verify_bundle", ours, None),
        ("sha256sum -c SHA256SUMS", coreutils, coreutils / ours),
        ("1 core hashlib, files", files_only, files_only / ours),
        ("1 core hashlib, same work", same_work, same_work / ours),
    ]
    for label, secs, ratio in rows:
        tail = "" if ratio is None else f"  ours is {ratio:4.2f}x faster"
        print(f"{label:26} {secs:6.2f} s  {size / secs / 1e6:7.0f} MB/s of bundle{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
