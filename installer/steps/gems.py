"""Step ``gems``: the locked gems installed with ``gem install --local --no-document``, no ``--force``.

Runs in the payload's ``gems/`` directory, where ``gem install --local`` finds every dependency, so
RubyGems itself checks the closure (dependencies and required Ruby versions); ``--force`` would skip
exactly that.  Files are given dependencies first (the lock's ``gems.install_order``).
Afterwards ``gem list --local`` must show every locked name and version.

Imports the install context, the process runner's error and the ``ruby`` step (where Ruby is).
"""

from __future__ import annotations

import re

from installer.context import InstallContext
from installer.process import StepError
from installer.steps import ruby as ruby_step

NAME = "gems"
LOG = "gems.log"
_LIST = re.compile(r"^(\S+) \((.*)\)$")


def applies(ctx: InstallContext) -> bool:
    return bool(ctx.lock.by_kind("gem"))


def inputs(ctx: InstallContext) -> dict:
    gems = sorted([a.path, a.sha256] for a in ctx.lock.by_kind("gem"))
    return {"gems": gems, "ruby": ruby_step.inputs(ctx) if ruby_step.applies(ctx) else None}


def ordered(ctx: InstallContext) -> list:
    """The gem artifacts, dependencies first when the lock's ``gems`` section gives an install order."""
    gems = sorted(ctx.lock.by_kind("gem"), key=lambda a: a.path)
    rank = {path: i for i, path in enumerate(ctx.lock.gems.install_order)}
    return sorted(gems, key=lambda a: (rank.get(a.path, len(rank)), a.path))


def run(ctx: InstallContext) -> dict:
    gems = ordered(ctx)
    gem = ruby_step.ruby_bin(ctx, "gem")
    gem_dir = ctx.state.payload / "gems"
    files = [a.path.rsplit("/", 1)[-1] for a in gems]
    runner = ctx.runner()
    ctx.say(f"gems: installing {len(files)} gems (log: {runner.log_dir / LOG})")
    bar = ctx.counter("gems", len(files), "gems")
    try:
        runner.run(
            [gem, "install", "--local", "--no-document", *files],
            log_name=LOG,
            cwd=ctx.inside(gem_dir),
            on_line=lambda line: bar.step() if line.startswith("Successfully installed") else None,
        )
    finally:
        bar.close()
    if ctx.dry_run:
        return {"installed": len(files)}
    out: list[str] = []
    runner.run([gem, "list", "--local"], log_name=LOG, on_line=out.append)
    listed = parse_gem_list(out)
    missing = [f"{a.name} {a.version}" for a in gems if a.version not in listed.get(a.name, ())]
    if missing:
        raise StepError(f"after gem install, 'gem list' does not show {', '.join(missing)}; see {runner.log_dir / LOG}")
    return {"installed": len(files)}


def parse_gem_list(lines: list[str]) -> dict[str, set[str]]:
    """``name (1.2.3, default: 2.0, 1.0 x86_64-linux)`` → {name: {"1.2.3", "2.0", "1.0", "1.0-x86_64-linux"}}."""
    out: dict[str, set[str]] = {}
    for line in lines:
        m = _LIST.match(line.strip())
        if not m:
            continue
        versions = out.setdefault(m.group(1), set())
        for entry in m.group(2).split(","):
            words = entry.replace("default:", "").split()
            if words:
                versions.add(words[0])
                if len(words) > 1:
                    versions.add(f"{words[0]}-{words[1]}")
    return out
