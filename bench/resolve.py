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

With ``--root ROOT`` (a debootstrapped target, e.g. trixie with main, -updates, -security and
-backports in its ``/etc/apt/sources.list``) the sources are the root's, the base its status file, and
apt runs inside it: ``apt cold`` is ``apt-get update`` from empty lists plus ``apt-get install -s``
(what our cold run does: fetch and read every index, then resolve), ``apt warm`` the install alone.
Goals there: cold within 1.5x apt cold, warm under 0.3 s.

    python3 bench/resolve.py [--runs 5] [--base /var/lib/dpkg/status|none]
    python3 bench/resolve.py --root /path/to/trixie-root --runs 3

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
from bundler.spec import AptSource
packages, base, cache, given = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
t0 = time.perf_counter()
client = AptClient(Http(), Path(cache))
sources = tuple(AptSource(u, (s,), tuple(c), k) for u, s, c, k in given) or tuple(AptClient.system_sources())
res = resolve_request(DebRequest(tuple(packages), sources, "amd64", base), client)
print(json.dumps({"seconds": time.perf_counter() - t0, "packages": len(res.install)}))
"""


def ours(packages: list[str], base: str, cache: Path, sources: list | None = None) -> tuple[float, int, float]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(packages), base, str(cache), json.dumps(sources or [])],
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


def root_sources(root: Path) -> list[list]:
    """The one-line ``deb URL SUITE COMP…`` sources of a root, with this machine's keyring for them."""
    from bundler.apt.system import read_system_sources

    keyring = read_system_sources()[0].keyring
    out = []
    for line in (root / "etc/apt/sources.list").read_text().splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 4 and words[0] == "deb":
            out.append([words[1], words[2], words[3:], keyring])
    return out


def apt_in_root(root: Path, packages: list[str], cold: bool) -> float:
    """``apt-get install -s`` in the root; ``cold``: from empty lists, ``apt-get update`` first."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
    t0 = time.perf_counter()
    if cold:
        lists = root / "var/lib/apt/lists"
        for f in lists.glob("*"):
            if f.is_file() and f.name != "lock":
                f.unlink()
        for f in (root / "var/cache/apt").glob("*.bin"):
            f.unlink()
        subprocess.run(["chroot", str(root), "apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
    proc = subprocess.run(
        ["chroot", str(root), "apt-get", "install", "-s", "--no-install-recommends", *packages],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"apt-get in {root} failed: {proc.stderr.strip()[-300:]}")
    return time.perf_counter() - t0


def bench_root(root: Path, packages: list[str], runs: int) -> int:
    sources = root_sources(root)
    status = str(root / "var/lib/dpkg/status")
    med = statistics.median
    with tempfile.TemporaryDirectory(prefix="bench-resolve-") as tmp:
        cold = [ours(packages, status, Path(tmp) / f"cold{i}", sources)[0] for i in range(runs)]
        warm = [ours(packages, status, Path(tmp) / "cold0", sources)[0] for _ in range(runs)]
    apt_cold = [apt_in_root(root, packages, True) for _ in range(runs)]
    apt_warm = [apt_in_root(root, packages, False) for _ in range(runs)]
    print(
        f"{len(packages)} requested packages, {len(sources)} suites ({', '.join(s[1] for s in sources)}), base {status}"
    )
    print(f"medians of {runs} runs")
    print(f"  apt in the root, cold (update + install -s)  {med(apt_cold):7.3f} s")
    print(f"  apt in the root, warm (install -s)           {med(apt_warm):7.3f} s")
    print(
        f"  ours cold (no cache)                         {med(cold):7.3f} s  {med(cold) / med(apt_cold):5.2f}x apt cold"
    )
    print(f"  ours warm (parsed index)                     {med(warm):7.3f} s")
    print(f"goals: warm < 0.3 s: {'met' if med(warm) < 0.3 else 'NOT met'};"
          f" cold <= 1.5x apt cold: {'met' if med(cold) <= 1.5 * med(apt_cold) else 'NOT met'}")  # fmt: skip
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--base", default="/var/lib/dpkg/status", help="dpkg status file or 'none'")
    ap.add_argument("--spec", type=Path, default=ROOT / "examples" / "debian-bookworm.yml")
    ap.add_argument("--root", type=Path, default=None, help="a debootstrapped target: its sources, status and apt")
    args = ap.parse_args()
    spec = load_spec(args.spec)
    assert spec.debs is not None
    packages = list(spec.debs.packages)
    if args.root is not None:
        return bench_root(args.root, packages, args.runs)
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
