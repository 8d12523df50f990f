"""Benchmark: resolving a 40-gem graph that needs backtracking, cold (empty index cache) and warm.

The graph (121 real ``.gem`` files built once with ``gem build``, served as a compact index on
127.0.0.1): gems g00..g39 with releases 1.0.0, 2.0.0 and 3.0.0; edges to later gems, some
pessimistic (``~> MAJOR.0``, coupling majors), some open; the 3.0.0 release of every fourth gem
needs Ruby >= 3.2, so with the target Ruby 3.1.2 every ``~> 3.0`` chain into one of them must back
off to 2.0.0, and the application's ``g39 ~> 2.0`` forces more.

Reference: RubyGems' own resolver on the same gems (``gem install --explain`` against the classic
index made by ``gem generate_index``, served the same way, fresh GEM_HOME and spec cache for cold,
kept for warm).  Its Ruby is this machine's (3.1.2), the same target we resolve for.  The times
include the ``gem`` process start; ours is in-process (``resolve_gems``).

    python3 bench/gems.py [--runs N] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from resolvelib import BaseReporter  # noqa: E402

from bundler.core.gem.version import Version  # noqa: E402
from bundler.gems.compactindex import CompactIndex  # noqa: E402
from bundler.gems.provider import RubyTarget, resolve_gems  # noqa: E402
from bundler.net.http import Http  # noqa: E402
from tests.support.gemrepo import FakeGem, cached_repo, serve_gem_replica  # noqa: E402

N = 40
TARGET = RubyTarget(Version("3.1.2"), Version("3.3.15"), ("ruby", "x86_64-linux"))


def graph(n: int = N) -> list[FakeGem]:
    names = [f"g{i:02d}" for i in range(n)]
    gems = []
    for i, name in enumerate(names):
        for major in (1, 2, 3):
            deps: list[tuple[str, str]] = []
            for j in (i + 1 + i % 3, i + 5, i + 11):
                if j < n and names[j] not in dict(deps):
                    deps.append((names[j], f"~> {major}.0" if (i + j) % 4 == 0 else ">= 1.0"))
            ruby = ">= 3.2" if major == 3 and i % 4 == 1 else None
            gems.append(FakeGem(name, f"{major}.0.0", tuple(deps), ruby))
    app_deps = tuple((names[i], ">= 1.0") for i in range(10)) + ((names[-1], "~> 2.0"),)
    gems.append(FakeGem("app", "1.0.0", app_deps))
    return gems


class Counter(BaseReporter):
    def __init__(self) -> None:
        self.rejected = 0
        self.conflicts = 0

    def rejecting_candidate(self, criterion, candidate) -> None:  # noqa: ANN001
        self.rejected += 1

    def resolving_conflicts(self, causes) -> None:  # noqa: ANN001
        self.conflicts += 1


def ours(base_url: str, cache: Path) -> tuple[float, dict[str, str], Counter, int]:
    counter = Counter()
    index = CompactIndex(Http(), base_url, cache)
    t = time.perf_counter()
    resolved = resolve_gems(index, [("app", ">= 0")], TARGET, counter)
    elapsed = time.perf_counter() - t
    return elapsed, {e.name: str(e.version) for e in resolved.gems}, counter, len(index.fetched)


def rubygems(base_url: str, home: Path) -> tuple[float, dict[str, str]]:
    env = {**os.environ, "GEM_HOME": str(home), "GEM_PATH": str(home), "HOME": str(home)}
    env["GEM_SPEC_CACHE"] = str(home / "specs")
    t = time.perf_counter()
    done = subprocess.run(
        ["gem", "install", "--explain", "--clear-sources", "--source", base_url + "/", "app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        return elapsed, {"<error>": (done.stderr.strip().splitlines() or ["?"])[0]}
    chosen = {}
    for line in done.stdout.splitlines():
        line = line.strip()
        if line and line != "Gems to install:":
            name, _, version = line.rpartition("-")
            chosen[name] = version
    return elapsed, chosen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bosh-offline-bench-gems")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    repo = cached_repo(graph(), args.work)
    if not (repo / "specs.4.8.gz").exists():
        subprocess.run(["gem", "generate_index", "-d", str(repo)], check=True, capture_output=True)
    print(f"graph: {len(graph())} releases of {N + 1} gems in {repo} (ready in {time.perf_counter() - t:.1f} s)")

    with serve_gem_replica(repo) as srv, tempfile.TemporaryDirectory() as tmp:
        # answer without Nagle's delay (headers and body are separate writes; a keep-alive request
        # would otherwise wait ~40 ms for a delayed ACK, which no real server makes us pay)
        srv._httpd.RequestHandlerClass.disable_nagle_algorithm = True
        cold, warm = [], []
        for k in range(args.runs):
            cache = Path(tmp) / f"cold{k}"
            elapsed, chosen, counter, fetched = ours(srv.base_url, cache)
            cold.append(elapsed)
            elapsed, _, _, fetched_warm = ours(srv.base_url, cache)
            warm.append(elapsed)
        ref_cold, ref_warm = [], []
        for k in range(max(1, args.runs // 2)):
            home = Path(tmp) / f"home{k}"
            home.mkdir()
            elapsed, ref_chosen = rubygems(srv.base_url, home)
            ref_cold.append(elapsed)
            elapsed, _ = rubygems(srv.base_url, home)
            ref_warm.append(elapsed)
            shutil.rmtree(home)

    backed_off = sorted(n for n, v in chosen.items() if v != "3.0.0")
    print(f"ours: {len(chosen)} gems chosen, {len(backed_off)} below their newest release;")
    print(f"      {counter.rejected} candidates rejected, {counter.conflicts} conflict resolutions (backtracking)")
    print(f"      HTTP requests: cold {fetched}, warm {fetched_warm} (the tail of /versions)")
    agree = (
        "the same set"
        if ref_chosen == chosen
        else f"a different set: {sorted(set(ref_chosen.items()) ^ set(chosen.items()))}"
    )
    print(f"RubyGems' resolver chose {agree}")
    oc, ow = statistics.median(cold), statistics.median(warm)
    rc, rw = statistics.median(ref_cold), statistics.median(ref_warm)
    print(f"{'':24}{'ours':>10}{'gem install --explain':>24}{'ratio':>8}")
    print(f"{'cold (median of ' + str(len(cold)) + ')':24}{oc:>9.3f}s{rc:>23.3f}s{rc / oc:>7.1f}x")
    print(f"{'warm (median of ' + str(len(warm)) + ')':24}{ow:>9.3f}s{rw:>23.3f}s{rw / ow:>7.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
