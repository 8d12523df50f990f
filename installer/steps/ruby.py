"""Step ``ruby``: Ruby built from the bundle's source tarball, as the guide does it by hand.

The tarball is unpacked inside the root with its ``tar`` (GNU tar refuses absolute and ``..``
member names; the bytes are the locked ones), or with Python's tarfile when the root cannot
decompress it (no ``xz``).  Then inside the root: ``./configure --prefix=PREFIX [configure args]``,
``make -j N``, ``make install``, all output into ``STATE/logs/ruby.log`` with a progress line now
and then, and the log's last lines in the error when a command fails.  Afterwards
``PREFIX/bin/ruby -v`` must report the locked version and the extensions the guide's debs exist
for (openssl, zlib, psych, readline) must load.

A Ruby already at the prefix with the locked version and extensions is not built again, and a
build killed after ``configure`` resumes with ``make`` (``installer.steps.rubyresume``).

The prefix and configure arguments come from the lock's ``ruby`` section (or the source artifact's
``meta``); default ``/usr/local`` and none.

Imports the bundle core's lock and errors, the install context, the host checks' ``has_command``
and the process runner's error.
"""

from __future__ import annotations

import shutil
import tarfile
import time
from pathlib import Path

from bundler.core.errors import BundleError
from bundler.core.lock import Artifact
from installer.context import InstallContext
from installer.hostcheck import has_command
from installer.journal import digest
from installer.process import StepError
from installer.steps.rubyresume import (
    CONFIGURED,
    expected_lines,
    installed_already,
    remove_partial_outputs,
    resumable_tree,
    save_line_counts,
    write_stamp,
)

NAME = "ruby"
LOG = "ruby.log"
EXTENSIONS = ("openssl", "zlib", "psych", "readline")
PROGRESS_SECONDS = 30.0


def source(ctx: InstallContext) -> Artifact | None:
    found = ctx.lock.by_kind("ruby-source")
    return found[0] if found else None


def settings(ctx: InstallContext) -> dict:
    art = source(ctx)
    section = ctx.lock.ruby
    meta = dict(art.meta) if art else {}
    return {
        "version": section.version or meta.get("version") or (art.version if art else ""),
        "prefix": section.prefix or meta.get("prefix") or "/usr/local",
        "configure": list(section.configure or meta.get("configure") or []),
    }


def applies(ctx: InstallContext) -> bool:
    return source(ctx) is not None


def inputs(ctx: InstallContext) -> dict:
    art = source(ctx)
    return {"source": [art.path, art.sha256] if art else None, **settings(ctx)}


def ruby_bin(ctx: InstallContext, name: str) -> str:
    """``PREFIX/bin/NAME`` when the bundle builds Ruby, else ``NAME`` from PATH."""
    if source(ctx) is None:
        return name
    return f"{settings(ctx)['prefix'].rstrip('/')}/bin/{name}"


def run(ctx: InstallContext) -> dict:
    art = source(ctx)
    assert art is not None
    conf = settings(ctx)
    wanted = digest(inputs(ctx))
    reused = installed_already(ctx, conf, wanted, check)
    if reused:
        ctx.say(f"ruby: {reused} is installed already with its extensions; not building it again")
        return {"version": reused, "prefix": conf["prefix"], "built": "no, already installed"}
    missing = [c for c in ("make", "cc") if not has_command(ctx.root, c)]
    if missing:
        raise StepError(
            f"cannot build Ruby: {', '.join(missing)} missing in {ctx.root} (the debs step installs build-essential)"
        )
    runner = ctx.runner()
    src = resumable_tree(ctx, wanted)
    configure = ["./configure", f"--prefix={conf['prefix']}", *conf["configure"]]
    steps = [("configure", configure), ("make", ["make", f"-j{ctx.jobs}"]), ("make install", ["make", "install"])]
    if src is not None:
        removed = remove_partial_outputs(ctx, src)
        ctx.say(f"ruby: resuming the interrupted build with make ({removed} partial outputs removed)")
        steps = steps[1:]
    else:
        src = unpack_in_root(ctx, ctx.state.payload / art.path)
    progress = Progress(ctx, expected_lines(ctx, src))
    cwd = ctx.inside(src)
    for label, argv in steps:
        ctx.say(f"ruby: {label} (log: {runner.log_dir / LOG})")
        progress.start(label)
        try:
            runner.run(argv, log_name=LOG, cwd=cwd, on_line=progress)
        finally:
            progress.bar.close()
        if label == "configure" and not ctx.dry_run:
            (ctx.state.build / CONFIGURED).write_text(wanted + "\n")
    version = check(ctx, conf["version"])
    if not ctx.dry_run:
        save_line_counts(ctx, progress.counts)
        write_stamp(ctx, conf, wanted)
    shutil.rmtree(ctx.state.build, ignore_errors=True)
    return {"version": version, "prefix": conf["prefix"], "built": "resumed" if len(steps) == 2 else "yes"}


def unpack_in_root(ctx: InstallContext, tarball: Path) -> Path:
    """Unpack with the root's own tar when it can (several times faster than tarfile for .tar.xz)."""
    needs = {".xz": "xz", ".bz2": "bzip2", ".gz": "gzip"}.get(tarball.suffix)
    if ctx.dry_run or not has_command(ctx.root, "tar") or (needs and not has_command(ctx.root, needs)):
        return unpack(tarball, ctx.state.build)
    if ctx.state.build.exists():
        shutil.rmtree(ctx.state.build)
    ctx.state.build.mkdir(parents=True)
    argv = ["tar", "--no-same-owner", "-xf", ctx.inside(tarball), "-C", ctx.inside(ctx.state.build)]
    ctx.runner().run(argv, log_name=LOG)
    tops = [p for p in ctx.state.build.iterdir()]
    if len(tops) != 1 or not tops[0].is_dir():
        raise BundleError(f"{tarball.name}: expected one top directory, found {sorted(p.name for p in tops)[:3]}")
    return tops[0]


def unpack(tarball: Path, build_dir: Path) -> Path:
    """Unpack into a fresh ``build_dir``; returns the source tree (the tarball's top directory)."""
    if build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
    try:
        with tarfile.open(tarball) as tar:
            tops = {m.name.split("/", 1)[0] for m in tar.getmembers()}
            tops.discard(".")
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            if len(tops) != 1 or any(m.name.startswith("/") or ".." in m.name.split("/") for m in tar.getmembers()):
                raise BundleError(
                    f"{tarball.name}: expected one top directory of relative paths, found {sorted(tops)[:3]}"
                )
            tar.extractall(build_dir, **kwargs)
    except (tarfile.TarError, OSError) as exc:
        raise BundleError(f"{tarball.name}: cannot unpack the Ruby source: {exc}") from None
    return build_dir / tops.pop()


def check(ctx: InstallContext, version: str) -> str:
    """``ruby -v`` shows ``version`` and the extensions load; returns the ``ruby -v`` line."""
    if ctx.dry_run:
        return version
    runner = ctx.runner()
    ruby = ruby_bin(ctx, "ruby")
    out: list[str] = []
    runner.run([ruby, "-v"], log_name=LOG, on_line=out.append)
    line = out[0] if out else ""
    if not line.startswith(f"ruby {version}"):
        raise StepError(f"{ruby} -v says {line!r}, expected ruby {version}: the build installed something else")
    script = "; ".join(f'require "{e}"' for e in EXTENSIONS)
    try:
        runner.run([ruby, "-e", script], log_name=LOG)
    except StepError as exc:
        raise StepError(
            f"Ruby {version} was built without a working extension ({', '.join(EXTENSIONS)}): "
            f"were the -dev debs installed before the build? {exc}"
        ) from None
    return line


class Progress:
    """Called with each output line; says the phase and an estimated percentage (from the line count
    of the previous build, else the number of C files), at most every ``PROGRESS_SECONDS``."""

    def __init__(self, ctx: InstallContext, expected: dict[str, int] | None = None) -> None:
        self.ctx = ctx
        self.label = ""
        self.lines = 0
        self.counts: dict[str, int] = {}
        self.expected = expected or {}
        self.last = time.monotonic()
        self.bar = ctx.counter("ruby", 0, "lines")

    def start(self, label: str) -> None:
        """A new phase: its own bar against the expected line count, when one is known."""
        self.label = label
        self.bar = self.ctx.counter(f"ruby {label}", self.expected.get(label, 0), "lines")

    def __call__(self, line: str) -> None:
        self.lines += 1
        self.counts[self.label] = self.counts.get(self.label, 0) + 1
        self.bar.step()
        now = time.monotonic()
        if now - self.last >= PROGRESS_SECONDS:
            self.last = now
            expected = self.expected.get(self.label)
            done = self.counts[self.label]
            pct = f" about {min(99, 100 * done // expected)}%," if expected else ""
            self.ctx.say(f"ruby: {self.label}:{pct} {done} lines of output so far, last: {line[:100]}")
