"""Benchmark: verifying a large stemcell (streaming, never extracted) against hashing it once.

Writes a heavy stemcell of ``--size-gb`` GiB (default 2) whose ``image`` is incompressible, in a
temporary directory (deleted afterwards unless ``--keep``), warms the page cache with one read,
then times, best of ``--runs``:

  reference   sha256 of the file (bundler.core.digest: what any integrity check costs at least)
  sha256sum   coreutils, for scale
  contents    check_artifact: gunzip + tar walk + sha1 of image vs stemcell.MF + identity
  verify      verify_artifact: the sha256 and size against the lock *and* the contents, one read

and prints each beside the reference as a ratio of wall time and of CPU time (all threads; on
shared cores the CPU ratio is the steadier figure).  The goal: verify <= 1.2x the reference.

    python3 bench/bosh_verify.py [--size-gb 2] [--runs 2] [--dir /tmp] [--keep] [--zlib]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bundler.core.bosh import stream as boshstream  # noqa: E402
from bundler.core.bosh.check import check_artifact, verify_artifact  # noqa: E402
from bundler.core.digest import sha256_file  # noqa: E402
from bundler.core.lock import Artifact  # noqa: E402
from tests.support.boshfixtures import write_big_stemcell  # noqa: E402

INFLATE = boshstream._inflate_lib.__name__


def best(runs: int, fn) -> tuple[float, float, object]:
    """Best wall time of ``runs``, with the CPU seconds (all threads) of that run."""
    times, result = [], None
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        times.append((time.perf_counter() - t, time.process_time() - c))
    wall, cpu = min(times)
    return wall, cpu, result


def sha256sum(path: Path) -> tuple[float, float]:
    t = time.perf_counter()
    before = os.times()
    subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return time.perf_counter() - t, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-gb", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--zlib", action="store_true", help="inflate with plain zlib even when isal is installed")
    args = ap.parse_args()
    inflate = INFLATE
    if args.zlib:
        import zlib

        boshstream._inflate_lib = zlib
        inflate = "zlib"
    block = 64 * 1024 * 1024
    size = max(1, round(args.size_gb * 1024**3 / block)) * block
    work = Path(tempfile.mkdtemp(prefix="bosh-verify-bench-", dir=args.dir))
    try:
        t = time.perf_counter()
        built = write_big_stemcell(work, size, block=block)
        file_size = built.path.stat().st_size
        print(
            f"wrote {built.path.name}: image {size / 1e9:.2f} GB, tarball {file_size / 1e9:.2f} GB"
            f" in {time.perf_counter() - t:.1f} s"
        )
        print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}, inflate: {inflate}")
        sha256 = sha256_file(built.path)  # also warms the page cache
        artifact = Artifact(
            "stemcell", built.name, built.version, "http://h.invalid/s.tgz", file_size, sha256, "bosh-io",
            f"stemcells/{built.path.name}", {"variant": "regular", "operating_system": "ubuntu-trusty"},
        )  # fmt: skip
        ref, ref_cpu, _ = best(args.runs, lambda: sha256_file(built.path))
        rows = [("reference: sha256 of the file once", ref, ref_cpu, None)]
        if shutil.which("sha256sum"):
            rows.append(("coreutils sha256sum", *sha256sum(built.path), None))
        t_check, c_check, problems = best(args.runs, lambda: check_artifact(built.path, artifact))
        rows.append(("contents: check_artifact", t_check, c_check, problems))
        t_verify, c_verify, verified = best(args.runs, lambda: verify_artifact(built.path, artifact))
        rows.append(("verify: sha256 + contents, one read", t_verify, c_verify, list(verified.problems)))
        print(f"{'what':40} {'wall s':>7} {'MB/s':>6} {'ratio':>6} {'cpu s':>7} {'ratio':>6}")
        for what, secs, cpu, probs in rows:
            print(
                f"{what:40} {secs:7.2f} {file_size / secs / 1e6:6.0f} {secs / ref:5.2f}x"
                f" {cpu:7.2f} {cpu / ref_cpu:5.2f}x"
            )
            if probs:
                print(f"   problems (unexpected): {probs}")
        ok = t_verify <= 1.2 * ref
        print(f"load average after: {os.getloadavg()[0]:.2f} (other work on these cores skews every ratio)")
        print(f"verify / reference = {t_verify / ref:.2f}x (goal <= 1.2x): {'met' if ok else 'NOT met'}")
        return 0
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
