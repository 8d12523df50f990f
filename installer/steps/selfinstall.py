"""Step ``installer``: this installer kept on the host, so that ``bosh-install`` works after ``install.sh``.

From the bundle's ``bootstrap.tar.gz`` (checked by ``verify`` against ``SHA256SUMS``): ``src/`` (the
installer, the bundle core, the manifests) and the runtime wheels unpacked into ``site/``, and in
``standalone`` mode the python-build-standalone tree into ``python/``, all under
``/opt/bosh-offline`` (inside ``--root`` when given); then the wrapper ``/usr/local/bin/bosh-install``
runs ``python3 -m installer`` (the bundled one in standalone mode) with them on ``PYTHONPATH``.  A
newer bundle (another ``bootstrap.tar.gz``) replaces the whole tree: it is written beside the old
one and renamed into place, and the wrapper is replaced by a rename too.

Imports the install context, the journal's ``digest`` and the bundle core's errors.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

from bundler.core.errors import BundleError
from installer.context import InstallContext
from installer.journal import digest

NAME = "installer"
OPTIONAL = True  # not shown in the plan of a bundle without bootstrap.tar.gz
BOOTSTRAP = "bootstrap.tar.gz"
HOME = "/opt/bosh-offline"
WRAPPER = "/usr/local/bin/bosh-install"


def applies(ctx: InstallContext) -> bool:
    return (ctx.bundle / BOOTSTRAP).is_file()


def inputs(ctx: InstallContext) -> dict:
    """The sha256 of every member of ``bootstrap.tar.gz`` but ``runtime/target`` (the host facts
    install.sh checks, which change with the lock's size): a new bundle with the same installer
    does not install it again."""
    members = {}
    try:
        with tarfile.open(ctx.bundle / BOOTSTRAP) as tar:
            for member in tar:
                if member.isfile() and member.name != "runtime/target":
                    members[member.name] = hashlib.sha256(tar.extractfile(member).read()).hexdigest()  # type: ignore[union-attr]
    except (OSError, tarfile.TarError) as exc:
        raise BundleError(f"{ctx.bundle / BOOTSTRAP}: unreadable ({exc}); copy the bundle again") from None
    return {"bootstrap": digest(members), "home": HOME, "wrapper": WRAPPER}


def wrapper_text(python: str, spec: str) -> str:
    return (
        "#!/bin/sh\n"
        f"# bosh-install, kept by install.sh of bundle {spec}; the next bundle's install.sh replaces it\n"
        f'PYTHONPATH="{HOME}/src:{HOME}/site" PYTHONDONTWRITEBYTECODE=1 exec {python} -m installer "$@"\n'
    )


def run(ctx: InstallContext) -> dict:
    home, wrapper = ctx.host(HOME), ctx.host(WRAPPER)
    ctx.say(f"installer: keeping bosh-install in {HOME} and {WRAPPER}")
    if ctx.dry_run:
        return {"home": HOME, "wrapper": WRAPPER}
    home.parent.mkdir(parents=True, exist_ok=True)
    new = home.with_name(f".{home.name}.new")
    shutil.rmtree(new, ignore_errors=True)
    try:
        mode = unpack_bootstrap(ctx.bundle / BOOTSTRAP, new)
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
        shutil.rmtree(new, ignore_errors=True)
        raise BundleError(f"{ctx.bundle / BOOTSTRAP}: cannot keep the installer: {exc}") from None
    python = f"{HOME}/python/bin/python3" if mode == "standalone" else "python3"
    old = home.with_name(f".{home.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if home.exists():
        os.rename(home, old)
    os.rename(new, home)
    shutil.rmtree(old, ignore_errors=True)
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    tmp = wrapper.with_name(f".{wrapper.name}.tmp")
    tmp.write_text(wrapper_text(python, ctx.lock.spec_name), encoding="utf-8")
    os.chmod(tmp, 0o755)
    os.replace(tmp, wrapper)
    return {"home": HOME, "wrapper": WRAPPER, "python": python, "mode": mode}


def unpack_bootstrap(tarball: Path, dest: Path) -> str:
    """``src/``, ``site/`` (the wheels) and, standalone, ``python/`` into ``dest``; returns the runtime mode."""
    dest.mkdir(parents=True)
    kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    with tarfile.open(tarball) as tar:
        mode = tar.extractfile("runtime/mode").read().decode().strip()  # type: ignore[union-attr]
        src = [m for m in tar.getmembers() if m.name.startswith("src/")]
        tar.extractall(dest, members=src, **kwargs)
        for member in tar.getmembers():
            if member.name.startswith("runtime/wheels/") and member.name.endswith(".whl"):
                with zipfile.ZipFile(io.BytesIO(tar.extractfile(member).read())) as wheel:  # type: ignore[union-attr]
                    wheel.extractall(dest / "site")
        if mode == "standalone":
            name = tar.extractfile("runtime/python.name").read().decode().strip()  # type: ignore[union-attr]
            with tarfile.open(fileobj=tar.extractfile(f"runtime/{name}")) as python:
                python.extractall(dest, **kwargs)  # python-build-standalone: python/bin/python3 …
    (dest / "site").mkdir(exist_ok=True)
    return mode
