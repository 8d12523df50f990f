"""Benchmark: downloading 50 artifacts, ours (parallel, one session) against a sequential curl loop.

A loopback server adds 50 ms latency to every request and caps each connection's bandwidth, like
a distant mirror.  Ours is measured twice: ``fetch_all`` alone (the download step) and the whole
``bosh-bundle build`` (download, checks, pack, SHA256SUMS).  Goal: at least 4x the curl loop.

    python3 bench/fetch.py [--count 50] [--size 400000] [--rate 2000000] [--latency 0.05] [--jobs 6]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bundler import cli  # noqa: E402
from bundler.net.download import FetchOptions, fetch_all  # noqa: E402
from tests.support.httpserver import LoopbackServer  # noqa: E402
from tests.support.synthetic import artifact, make_files, write_test_lock  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--size", type=int, default=400_000, help="bytes per artifact")
    ap.add_argument("--rate", type=int, default=2_000_000, help="bytes/s per connection")
    ap.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    ap.add_argument("--jobs", type=int, default=6)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fetch.") as tmp:
        tmp = Path(tmp)
        files = make_files(tmp / "srv", {f"artifact-{i:02d}.bin": args.size for i in range(args.count)})
        with LoopbackServer(root=tmp / "srv") as srv:
            for name in files:
                srv.faults[f"/{name}"] = {"delay": args.latency, "rate": args.rate}
            arts = [artifact(n, d, srv.url(n)) for n, d in files.items()]
            write_test_lock(tmp / "bundle.lock", arts)

            t0 = time.perf_counter()
            (tmp / "curl").mkdir()
            for a in arts:
                subprocess.run(["curl", "-sSf", "-o", str(tmp / "curl" / a.name), a.url], check=True)
            curl = time.perf_counter() - t0

            t0 = time.perf_counter()
            fetch_all(arts, tmp / "cache1", options=FetchOptions(jobs=args.jobs))
            ours_fetch = time.perf_counter() - t0

            t0 = time.perf_counter()
            rc = cli.main(
                ["build", "--lock", str(tmp / "bundle.lock"), "--out", str(tmp / "bundle"), "--quiet"]
                + ["--cache", str(tmp / "cache2"), "--jobs", str(args.jobs)]
            )
            ours_build = time.perf_counter() - t0
            assert rc == 0
    total = args.count * args.size
    print(
        f"{args.count} artifacts x {args.size / 1e6:.2f} MB, {args.latency * 1000:.0f} ms latency,"
        f" {args.rate / 1e6:.1f} MB/s per connection, --jobs {args.jobs}"
    )
    for label, secs in (
        ("curl loop (sequential)", curl),
        ("ours: fetch_all", ours_fetch),
        ("ours: bosh-bundle build", ours_build),
    ):
        ratio = "" if secs is curl else f"  {curl / secs:5.2f}x the curl loop"
        print(f"{label:24} {secs:7.2f} s  {total / secs / 1e6:6.1f} MB/s{ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
