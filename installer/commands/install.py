"""``bosh-install install`` and ``bosh-install plan``: turn a bundle into an installed toolchain.

``install --bundle DIR [--root DIR] [--state-dir DIR] [--dry-run] [--yes]`` runs the host checks
(``installer.hostcheck``), shows the plan, asks for confirmation (unless ``--yes``), then runs the
steps, journaled (``installer.install``).  ``plan`` shows what ``install`` would run and why, and
changes nothing.  ``install`` holds the state directory's lock (``installer.statelock``): one run
at a time.  Progress lines carry UTC timestamps and go to stderr and to
``STATE/logs/install.log``.

Imports the bundle core (lock, archive, password, CLI plumbing), the install, the host checks and
the state directory's layout.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from bundler.core.archive import needs_password
from bundler.core.bundlemeta import META, read_meta
from bundler.core.cliapp import JSON_HELP, YES_HELP, add_dry_run_option, example, print_json, progress_for
from bundler.core.errors import InputError
from bundler.core.lock import read_lock
from bundler.core.password import read_password
from bundler.core.signing import signature_policy
from bundler.core.verify_command import add_keyring_options
from installer.context import InstallContext
from installer.hostcheck import Host, require_host_checks
from installer.install import install, plan
from installer.journal import Journal
from installer.process import open_log, private_dir
from installer.state import StateDir
from installer.statelock import is_held, state_lock
from installer.steps import debs, extract

log = logging.getLogger(__name__)
# set by install.sh to what it changed before running us (the installer's own runtime)
CHANGED_ENV = "BOSH_OFFLINE_CHANGED"


def register(sub: argparse._SubParsersAction) -> None:
    for name, helptext in (
        ("install", "verify the bundle and install its debs, Ruby, gems and CLIs (journaled, resumable)"),
        ("plan", "show which install steps would run and why; changes nothing"),
    ):
        p = sub.add_parser(
            name,
            help=helptext,
            description=helptext[0].upper() + helptext[1:] + ".",
            epilog=example(f"%(prog)s --bundle /media/usb/bundle{' --yes' if name == 'install' else ''}"),
        )
        p.add_argument(
            "--bundle", type=Path, default=Path("."), metavar="DIR", help="the bundle directory (default: .)"
        )
        p.add_argument("--root", type=Path, help="install into this root directory (through chroot)")
        p.add_argument(
            "--state-dir", type=Path, help="journal, logs and extracted payload (default ROOT/var/lib/bosh-offline)"
        )
        p.add_argument(
            "--jobs", type=int, default=os.cpu_count() or 1, help="parallel make jobs for Ruby (default: CPUs)"
        )
        p.add_argument("--json", action="store_true", help=JSON_HELP)
        add_keyring_options(p)
        p.add_argument(
            "--allow-downgrade",
            action="store_true",
            help="install a bundle older (lower serial) than the installed one",
        )
        if name == "install":
            add_dry_run_option(p)
            p.add_argument("-y", "--yes", action="store_true", help=YES_HELP)
            p.set_defaults(func=run_install)
        else:
            p.set_defaults(func=run_plan)


def say(message: str, log_file: Path | None = None) -> None:
    line = f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {message}"
    print(line, file=sys.stderr, flush=True)
    if log_file is not None and log_file.parent.is_dir():
        with open_log(log_file) as fh:
            fh.write(line + "\n")


def context(args: argparse.Namespace, dry_run: bool) -> InstallContext:
    bundle = args.bundle.absolute()
    if not (bundle / "bundle.lock").is_file():
        raise InputError(f"{bundle}: not a bundle directory (no bundle.lock); give --bundle DIR")
    signature_policy(bundle, args.keyring, args.require_signature)  # before anything of the bundle is read
    lock = read_lock(bundle / "bundle.lock")
    chroot = args.root is not None
    root = args.root.absolute() if chroot else Path("/")
    if chroot and not root.is_dir():
        raise InputError(f"--root {root}: no such directory")
    state = StateDir.for_root(root, chroot, args.state_dir)
    log_file = state.logs / "install.log"
    return InstallContext(
        bundle=bundle,
        lock=lock,
        root=root,
        chroot=chroot,
        state=state,
        dry_run=dry_run,
        jobs=max(1, args.jobs),
        progress=progress_for(args),
        changed=os.environ.get(CHANGED_ENV, ""),
        say=lambda m: say(m, log_file),
    )


def show_plan(ctx: InstallContext, steps, as_json: bool) -> None:
    if as_json:
        print_json([{"step": p.name, "run": p.run, "status": p.status, "reason": p.reason} for p in steps])
        return
    for p in steps:
        print(f"{'run ' if p.run else 'skip'}  {p.name:9} {p.reason}")


def run_plan(args: argparse.Namespace) -> int:
    ctx = context(args, dry_run=True)
    holder = is_held(ctx.state.path)
    if holder is not None and not args.json:
        print(f"a run is in progress (process {holder or '?'}): this plan may change as it goes")
    show_plan(ctx, plan(ctx, Journal.read(ctx.state.path)), args.json)
    return 0


def check_serial(ctx: InstallContext, allow_downgrade: bool) -> int | None:
    """The bundle's serial, refused when lower than the last one installed here (rollback)."""
    meta = read_meta(ctx.bundle)
    installed = ctx.state.installed_serial()
    if meta is None or installed is None or meta.serial >= installed:
        return meta.serial if meta else None
    if not allow_downgrade:
        raise InputError(
            f"{ctx.bundle / META}: serial {meta.serial} is older than the installed bundle's {installed}"
            f" ({ctx.state.installed}): refusing a downgrade; add --allow-downgrade if you mean it"
        )
    ctx.say(f"downgrading: serial {meta.serial} is older than the installed {installed} (--allow-downgrade)")
    return meta.serial


def run_install(args: argparse.Namespace) -> int:
    ctx = context(args, dry_run=args.dry_run)
    serial = check_serial(ctx, args.allow_downgrade)
    changed = os.environ.get(CHANGED_ENV, "")
    require_host_checks(ctx.lock, ctx.bundle, Host(ctx.root), ctx.state.path, ctx.chroot, debs.applies(ctx), changed)
    problem = extract.delta_problem(ctx)
    if problem:
        raise InputError(problem + (f" (only {changed} changed)" if changed else " (nothing was changed)"))
    if args.dry_run:
        return _install(args, ctx, serial)
    with state_lock(ctx.state.path, "install"):
        return _install(args, ctx, serial)


def _install(args: argparse.Namespace, ctx: InstallContext, serial: int | None) -> int:
    steps = plan(ctx, Journal.read(ctx.state.path))
    if any(p.run and p.name in ("verify", "extract") for p in steps) and needs_password(ctx.bundle):
        ctx.password = read_password(confirm=False)
    show_plan(ctx, steps, args.json)
    if args.dry_run or not any(p.run for p in steps):
        if not args.dry_run:
            say("everything is installed and current; nothing to do")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise InputError("not asking on a non-interactive input: add --yes to install")
        answer = input(f"install into {ctx.root}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            changed = os.environ.get(CHANGED_ENV)
            say(f"stopped; only {changed} changed" if changed else "nothing changed")
            return 1
    private_dir(ctx.state.path)
    private_dir(ctx.state.logs)
    ctx.say(f"installing {ctx.lock.spec_name} from {ctx.bundle} into {ctx.root} (state: {ctx.state.path})")
    started = time.monotonic()
    install(ctx, Journal.open(ctx.state.path), steps)
    if serial is not None:
        ctx.state.record_serial(serial, ctx.lock.spec_name)
    ctx.say(f"installed in {time.monotonic() - started:.0f} s")
    return 0
