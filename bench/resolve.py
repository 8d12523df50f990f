"""Benchmark: resolving the guide's package list for Debian 12, cold and warm, beside ``apt-get install -s``.

The list is the ``debs.packages`` of ``examples/debian-bookworm.yml``; the sources are this machine's apt
configuration.  Each run is a fresh Python process (no in-memory state carries over) that times the
resolution itself: signed InRelease fetch and gpgv, index load, closure and install order.

  cold   empty cache: download Packages.xz of every suite, check sha256, parse, store the parsed index
  warm   parsed indexes already cached (keyed by the sha256 in Release): InRelease + gpgv + load + resolve
  apt    ``apt-get install -s --no-install-recommends LIST`` (the whole process: apt has no separate phase)

Both resolve against the same base (``--base``, default this machine's ``/var/lib/dpkg/status``; ``none``
compares with apt given an empty status file).  Medians of ``--runs`` runs; goals: warm <= 0.3 s,
cold <= 3x apt.

    python3 bench/resolve.py [--runs 5] [--base /var/lib/dpkg/status|none]

Imports the spec reader here and, in each child process, ``bundler.apt.client`` and ``bundler.debs.resolve``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bundler.spec import load_spec  # noqa: E402

CHILD = """
import json, sys, time
from pathlib import Path
from bundler.net.http import Http
from bundler.apt.client import AptClient
from bundler.debs.resolve import DebRequest, resolve_request
packages, base, cache = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
client = AptClient(Http(), Path(cache))
res = resolve_request(DebRequest(tuple(packages), tuple(AptClient.system_sources()), "amd64", base), client)
print(json.dumps({"seconds": time.perf_counter() - t0, "packages": len(res.install)}))
"""


def ours(packages: list[str], base: str, cache: Path) -> tuple[float, int, float]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(packages), base, str(cache)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"resolution failed: {proc.stderr.strip().splitlines()[-1]}")
    out = json.loads(proc.stdout)
    return out["seconds"], out["packages"], wall


def apt(packages: list[str], status: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["apt-get", "install", "-s", "--no-install-recommends", "-o", f"Dir::State::status={status}", *packages],
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"apt-get failed: {proc.stderr.strip()[-300:]}")
    return took, sum(1 for line in proc.stdout.splitlines() if line.startswith("Inst "))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--base", default="/var/lib/dpkg/status", help="dpkg status file or 'none'")
    ap.add_argument("--spec", type=Path, default=ROOT / "examples" / "debian-bookworm.yml")
    args = ap.parse_args()
    spec = load_spec(args.spec)
    assert spec.debs is not None
    packages = list(spec.debs.packages)
    with tempfile.TemporaryDirectory(prefix="bench-resolve-") as tmp:
        status = args.base
        if args.base == "none":
            status = str(Path(tmp) / "empty-status")
            Path(status).write_text("")
        cold, cold_wall, warm, warm_wall, apt_t = [], [], [], [], []
        n_ours = n_apt = 0
        for i in range(args.runs):
            cache = Path(tmp) / f"cold{i}"
            s, n_ours, w = ours(packages, args.base, cache)
            cold.append(s)
            cold_wall.append(w)
        for _ in range(args.runs):
            s, n_ours, w = ours(packages, args.base, Path(tmp) / "cold0")
            warm.append(s)
            warm_wall.append(w)
        for _ in range(args.runs):
            t, n_apt = apt(packages, status)
            apt_t.append(t)
    med = statistics.median
    print(f"{len(packages)} requested packages, base {args.base}: ours {n_ours} to install, apt {n_apt}")
    print(f"medians of {args.runs} runs (resolution in-process; whole process in brackets)")
    print(f"  apt-get install -s   {med(apt_t):7.3f} s")
    print(f"  cold (no cache)      {med(cold):7.3f} s  [{med(cold_wall):.3f} s]  {med(cold) / med(apt_t):5.2f}x apt")
    print(f"  warm (parsed index)  {med(warm):7.3f} s  [{med(warm_wall):.3f} s]  {med(warm) / med(apt_t):5.2f}x apt")
    print(f"goals: warm <= 0.3 s: {'met' if med(warm) <= 0.3 else 'NOT met'};"
          f" cold <= 3x apt: {'met' if med(cold) <= 3 * med(apt_t) else 'NOT met'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
