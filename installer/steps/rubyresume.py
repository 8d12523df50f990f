"""Where the Ruby step can pick up: a Ruby already installed, a build tree left by a killed run.

- ``installed_already``: ``PREFIX/bin/ruby`` reports the locked version and its extensions load, and
  the stamp ``PREFIX/lib/bosh-offline-ruby.json`` (written after every build) is absent or names
  the same inputs: then the Ruby step does not build again (a new state directory, a lost journal).
- ``resumable_tree``: ``STATE/build`` holds one source tree whose ``configure`` finished for these
  inputs (``STATE/build/.configured`` holds their digest, written when configure exits 0) and its
  ``Makefile``: the step resumes with ``make``, which rebuilds only what is missing.
  ``remove_partial_outputs`` first removes the object files and libraries written in the minute
  before the killed run's last log line (a SIGKILL'd compiler may leave a truncated one that make
  would take as current).
- ``expected_lines``: per phase, the output line count of the previous build on this host
  (``STATE/ruby-lines.json``), else for ``make`` the number of C files of the source: the progress
  line's estimated percentage.

Imports the install context only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from bundler.core.errors import BundleError
from installer.context import InstallContext

CONFIGURED = ".configured"
STAMP = "lib/bosh-offline-ruby.json"
LINES = "ruby-lines.json"
LOG = "ruby.log"
PARTIAL_WINDOW = 60.0  # seconds before the last log line
PARTIAL_SUFFIXES = (".o", ".so", ".a")


def _stamp_path(ctx: InstallContext, conf: dict) -> Path:
    return ctx.host(conf["prefix"].rstrip("/") + "/" + STAMP)


def installed_already(ctx: InstallContext, conf: dict, wanted: str, check: Callable[[InstallContext, str], str]) -> str:
    """The ``ruby -v`` line of a good Ruby at the prefix built from these inputs; "" when there is none."""
    if ctx.dry_run or not ctx.host(conf["prefix"].rstrip("/") + "/bin/ruby").is_file():
        return ""
    try:
        recorded = json.loads(_stamp_path(ctx, conf).read_text(encoding="utf-8")).get("inputs")
    except FileNotFoundError:
        recorded = None
    except (OSError, ValueError, AttributeError):
        return ""
    if recorded not in (None, wanted):
        return ""
    try:
        return check(ctx, conf["version"])
    except BundleError:
        return ""


def write_stamp(ctx: InstallContext, conf: dict, wanted: str) -> None:
    path = _stamp_path(ctx, conf)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"inputs": wanted, "version": conf["version"]}) + "\n", encoding="utf-8")


def resumable_tree(ctx: InstallContext, wanted: str) -> Path | None:
    """The configured source tree of an interrupted build with the same inputs, if intact."""
    build = ctx.state.build
    try:
        if (build / CONFIGURED).read_text(encoding="utf-8").strip() != wanted:
            return None
    except OSError:
        return None
    tops = [p for p in build.iterdir() if p.is_dir()]
    if len(tops) != 1 or not (tops[0] / "Makefile").is_file() or not (tops[0] / "configure").is_file():
        return None
    return tops[0]


def remove_partial_outputs(ctx: InstallContext, src: Path) -> int:
    """Remove objects and libraries written just before the interrupted run's last log line."""
    try:
        killed_at = (ctx.state.logs / LOG).stat().st_mtime
    except OSError:
        return 0
    removed = 0
    for dirpath, _dirs, files in os.walk(src):
        for name in files:
            if name.endswith(PARTIAL_SUFFIXES):
                path = Path(dirpath) / name
                if path.stat().st_mtime >= killed_at - PARTIAL_WINDOW:
                    path.unlink()
                    removed += 1
    return removed


def expected_lines(ctx: InstallContext, src: Path) -> dict[str, int]:
    try:
        counts = json.loads((ctx.state.path / LINES).read_text(encoding="utf-8"))
        if isinstance(counts, dict) and all(isinstance(v, int) for v in counts.values()):
            return counts
    except (OSError, ValueError):
        pass
    c_files = sum(1 for _dirpath, _dirs, files in os.walk(src) for name in files if name.endswith(".c"))
    return {"make": c_files} if c_files else {}


def save_line_counts(ctx: InstallContext, counts: dict[str, int]) -> None:
    if {"configure", "make"} <= counts.keys():  # a whole build, not a resumed one
        (ctx.state.path / LINES).write_text(json.dumps(counts, sort_keys=True) + "\n", encoding="utf-8")
