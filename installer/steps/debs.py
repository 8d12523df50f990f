"""Step ``debs``: the bundle's .debs installed with ``dpkg -i`` in the lock's install order.

``dpkg -i`` of every file in ``sections.debs.install_order`` that is not already installed at the
same version, in as few calls as Pre-Depends allow (``bundler.core.deb.stages``): dpkg unpacks a call's
files and then configures them, so dependency cycles inside a call are handled as apt would.  A
``dpkg --configure -a`` first finishes whatever an interrupted earlier run left half-configured.
No network is involved.  On failure the error names the packages dpkg complained about with its
own message lines.

Imports the bundle core's deb stages, the install context and the process runner's error.
"""

from __future__ import annotations

import re

from bundler.core.deb.stages import stages
from installer.context import InstallContext
from installer.process import StepError

NAME = "debs"
LOG = "debs.log"
ENV = {"DEBIAN_FRONTEND": "noninteractive", "DEBCONF_NONINTERACTIVE_SEEN": "true"}
_ERROR = re.compile(
    r"^dpkg: (?:error processing (?:archive|package) (\S+)|dependency problems prevent \w+ of (\S+?):?$)"
)


def order(ctx: InstallContext) -> list[str]:
    paths = list(ctx.lock.debs.install_order)
    by_path = {a.path for a in ctx.lock.by_kind("deb")}
    missing = [p for p in paths if p not in by_path]
    if missing:
        raise StepError(f"bundle.lock: sections.debs.install_order names {missing[0]}, which the lock does not carry")
    return paths


def applies(ctx: InstallContext) -> bool:
    return bool(ctx.lock.by_kind("deb"))


def inputs(ctx: InstallContext) -> dict:
    shas = {a.path: a.sha256 for a in ctx.lock.by_kind("deb")}
    return {"order": [[p, shas[p]] for p in order(ctx)]}


def run(ctx: InstallContext) -> dict:
    runner = ctx.runner()
    runner.run(["dpkg", "--configure", "-a"], log_name=LOG, env=ENV)
    listing: list[str] = []
    runner.run(
        ["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Status}\n"], log_name=LOG, on_line=listing.append
    )
    installed = {tuple(line.split()[:2]) for line in listing if line.endswith(" installed")}
    debs = {a.path: a for a in ctx.lock.by_kind("deb")}
    paths = [p for p in order(ctx) if (debs[p].name.split(":")[0], debs[p].version) not in installed]
    if not paths:
        ctx.say("debs: every package is installed already at the locked version")
        return {"installed": 0, "already": len(debs)}
    payload_files = [ctx.state.payload / p for p in paths]
    groups = stages(payload_files) if not ctx.dry_run else [payload_files]
    ctx.say(
        f"debs: installing {len(paths)} packages with dpkg -i in {len(groups)} call(s)"
        f" ({len(debs) - len(paths)} already installed)"
    )
    bar = ctx.counter("debs", len(paths), "packages")
    try:
        for group in groups:
            lines: list[str] = []
            files = [ctx.inside(f) for f in group]
            code = runner.run(["dpkg", "-i", *files], log_name=LOG, env=ENV, on_line=_counting(lines, bar), check=False)
            if code != 0:
                raise StepError(explain_failure(lines, code, runner.log_dir / LOG))
    finally:
        bar.close()
    return {"installed": len(paths), "already": len(debs) - len(paths), "dpkg_calls": len(groups)}


def _counting(lines: list[str], bar):
    """Keep dpkg's lines and count each package set up (package n of N)."""

    def on_line(line: str) -> None:
        lines.append(line)
        if line.startswith("Setting up "):
            bar.step()

    return on_line


def explain_failure(lines: list[str], code: int, log_path) -> str:
    """dpkg's complaint, by package: 'dpkg could not install NAME: <its lines>'."""
    failed: list[str] = []
    detail: list[str] = []
    for i, line in enumerate(lines):
        m = _ERROR.match(line)
        if m:
            name = (m.group(1) or m.group(2)).rsplit("/", 1)[-1]
            if name not in failed:
                failed.append(name)
            detail.extend(lines[i : i + 4])
    if not detail:
        detail = lines[-10:]
    what = ", ".join(failed) if failed else "the bundle's packages"
    shown = "\n    ".join(dict.fromkeys(detail))
    return f"dpkg could not install {what} (exit {code}); full log: {log_path}\n    {shown}"
