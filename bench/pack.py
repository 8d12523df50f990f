"""Benchmark: packing artifacts into the payload (py7zr, COPY filter) against plain ``tar cf``.

Goal: at least 0.8x tar's speed.  The files are generated in a temporary directory under /tmp and
removed afterwards; each tool runs three times (alternating, after a sync) and the best time counts,
so both see a warm page cache and neither pays for the other's writeback.

    python3 bench/pack.py [--total-mb 1024] [--files 40] [--volume-size 256m]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bundler.core.archive import write_payload  # noqa: E402
from bundler.core.volumes import parse_size  # noqa: E402


def make_data(root: Path, total: int, count: int) -> list[tuple[str, Path]]:
    members = []
    per = total // count
    (root / "debs").mkdir(parents=True)
    for i in range(count):
        path = root / "debs" / f"pkg-{i:03d}.deb"
        with open(path, "wb") as f:
            left = per
            while left:
                n = min(left, 16 * 1024 * 1024)
                f.write(os.urandom(n))
                left -= n
        members.append((f"debs/{path.name}", path))
    return members


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--total-mb", type=int, default=1024)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--volume-size", default=None, help="also split into volumes of this size")
    args = ap.parse_args()
    total = args.total_mb * 1024 * 1024
    tmp = Path(tempfile.mkdtemp(prefix="bench-pack.", dir="/tmp"))
    try:
        members = make_data(tmp / "src", total, args.files)
        times: dict[str, list[float]] = {"tar": [], "ours": []}
        for _ in range(3):
            out = tmp / "tar.tar"
            os.sync()  # neither tool pays for the other's (or the generator's) writeback
            t0 = time.perf_counter()
            subprocess.run(["tar", "cf", str(out), "-C", str(tmp / "src"), "debs"], check=True)
            times["tar"].append(time.perf_counter() - t0)
            out.unlink()
            out = tmp / "ours"
            out.mkdir()
            size = parse_size(args.volume_size) if args.volume_size else None
            os.sync()
            t0 = time.perf_counter()
            write_payload(out, members, volume_size=size)
            times["ours"].append(time.perf_counter() - t0)
            shutil.rmtree(out)
        tar, ours = min(times["tar"]), min(times["ours"])
        mb = total / 1e6
        split = f", volumes of {args.volume_size}" if args.volume_size else ""
        print(f"{args.files} files, {mb:.0f} MB{split}")
        print(f"tar cf         {tar:6.2f} s  {mb / tar:7.1f} MB/s")
        print(f"ours (py7zr)   {ours:6.2f} s  {mb / ours:7.1f} MB/s  {tar / ours:5.2f}x tar's speed")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
