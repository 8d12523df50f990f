"""Resolving the installer's own Python runtime (the spec's ``runtime`` section) into lock entries.

The offline host must run ``bosh-install``, a Python program.  Two modes (DESIGN.md section 3):

- ``distro``: the target's own python3 is new enough (Debian 12); a release whose python3 is older
  than ``MIN_PYTHON`` (Debian 11's 3.9) is refused at lock time, naming ``standalone``.
  The deb resolver adds python3 and the installer's libraries as debs (``sections["debs"]["runtime"]``).
  Libraries whose distro package is too old for the installer (``DISTRO_WHEELS``: Debian 12's python3-py7zr is 0.11, we
  need the 1.x API) or missing (boto3) come as wheels built for the distro's Python (``DISTRO_PYTHON``, else the spec's
  ``python_version``); ``install.sh`` puts them ahead of the distro's on ``PYTHONPATH``.
- ``standalone``: the target's python3 is too old (trusty has 3.4).  The bundle carries a
  python-build-standalone tarball (kind ``runtime``) and the installer's dependencies as
  manylinux2014 wheels (kind ``wheel``) for the spec's ``python_version``.  Wheels are found by
  pip itself: ``pip install --dry-run --report`` names each wheel's URL and sha256 as the index gives
  it, ``pip download`` fetches the files, and we check one against the other.  Both land in the
  content-addressed cache, so ``bosh-bundle build`` does not download them again.

Trust: the Python tarball is ``pinned`` when the spec gives its sha256, else ``first-download``
(warned about).  Wheels are ``first-download``: pip reads them over HTTPS from the configured index
and no signature covers them.

Imports ``bundler.core``, ``bundler.net.download`` and the spec; runs ``pip`` as a subprocess.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from bundler.core.errors import FetchError, InputError, IntegrityError, ResolutionError
from bundler.core.lock import Artifact, LockPart
from bundler.net.download import ChecksumMismatch, download_to_cache
from bundler.spec import FileRef, RuntimeSpec, Spec

log = logging.getLogger(__name__)

# What the offline side imports at run time: bundler.core and installer import yaml, py7zr, tqdm and
# boto3 (botocore comes with it), nothing else outside the standard library (tests/installer/test_boundary.py
# keeps requests and resolvelib out).  isal, the optional fast inflate, is not shipped.
INSTALLER_REQUIREMENTS: tuple[str, ...] = ("pyyaml", "tqdm", "py7zr", "boto3")
# Shipped as wheels in distro mode too: py7zr is too old in the distros (Debian 12 has 0.11); boto3 is
# not among the runtime debs (the aws commands and ``bosh-install fetch`` need it).
DISTRO_WHEELS: tuple[str, ...] = ("py7zr", "boto3")
# (os, release) -> the python3 minor version the release ships
DISTRO_PYTHON = {
    ("debian", "12"): "3.11",
    ("debian", "13"): "3.13",
    ("ubuntu", "22.04"): "3.10",
    ("ubuntu", "24.04"): "3.12",
    # older than MIN_PYTHON: ``distro`` mode is refused for these (exit 2, naming ``standalone``)
    ("debian", "11"): "3.9",
    ("ubuntu", "20.04"): "3.8",
    ("ubuntu", "18.04"): "3.6",
    ("ubuntu", "14.04"): "3.4",
}
MIN_PYTHON = (3, 10)  # pyproject.toml's requires-python: the installer's own code and py7zr/boto3
WHEEL_PLATFORM = "manylinux2014_x86_64"
_PBS_VERSION = re.compile(r"cpython-(\d+\.\d+\.\d+)(?:\+(\d+))?")


def resolve(spec: Spec, ctx) -> LockPart:
    """The runtime part of the lock; ``ctx`` is a ``bundler.resolve.LockContext``."""
    runtime: RuntimeSpec = spec.runtime
    if runtime.mode == "distro":
        version = DISTRO_PYTHON.get((spec.target.os, spec.target.release), runtime.python_version)
        if tuple(int(x) for x in version.split(".")[:2]) < MIN_PYTHON:
            raise InputError(
                f"{spec.path.name}: runtime.mode: distro: {spec.target.os} {spec.target.release}'s python3 is"
                f" {version}, older than the installer needs ({'.'.join(map(str, MIN_PYTHON))}):"
                " use 'mode: standalone' with a python-build-standalone tarball (runtime.python)"
            )
        wheels = wheel_artifacts(DISTRO_WHEELS, version, ctx)
        section = {"mode": "distro", "python_version": version, "wheels": [w.path for w in wheels]}
        return LockPart(tuple(wheels), "runtime", section)
    python = python_artifact(runtime.python, runtime.python_version, ctx)
    wheels = wheel_artifacts(INSTALLER_REQUIREMENTS, runtime.python_version, ctx)
    section = {
        "mode": "standalone",
        "python_version": runtime.python_version,
        "python": python.path,
        "wheels": [w.path for w in wheels],
    }
    return LockPart((python, *wheels), "runtime", section)


def python_artifact(ref: FileRef, python_version: str, ctx) -> Artifact:
    """The python-build-standalone tarball; downloaded now only if its sha256 or size is unknown."""
    name = PurePosixPath(unquote(urlparse(ref.url).path)).name
    if not name:
        raise ResolutionError(f"runtime.python.url {ref.url!r}: the URL names no file")
    m = _PBS_VERSION.search(name)
    version = (m.group(1) + (f"+{m.group(2)}" if m.group(2) else "")) if m else python_version
    sha256, size, trust = ref.sha256, ref.size, "pinned"
    if sha256 is None or size is None:
        sha256, size = _download(ctx, ref.url, ref.sha256, f"runtime python {name}")
        if ref.sha256 is None:
            trust = "first-download"
            ctx.warn(
                f"runtime python {name}: no sha256 in the spec, trusting the first download ({sha256}); "
                "pin it under runtime.python.sha256 after checking it against upstream"
            )
    return Artifact("runtime", "python", version, ref.url, size, sha256, trust, f"runtime/{name}")


def _download(ctx, url: str, sha256: str | None, what: str) -> tuple[str, int]:
    """Stream ``url`` (mirrors applied) into the cache, hashing as it goes; returns (sha256, size)."""
    try:
        got = download_to_cache(ctx.http, url, ctx.cache, what=what, sha256=sha256, progress=ctx.progress)
    except ChecksumMismatch as exc:
        raise IntegrityError(f"{url}: sha256 is {exc.got_sha256}, expected {sha256} (from the spec)") from None
    return got.sha256, got.size


def _pip(args: list[str], what: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    log.info("running %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n    ".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise FetchError(f"pip could not {what} (exit {proc.returncode}):\n    {tail}")


def wheel_artifacts(requirements: tuple[str, ...], python_version: str, ctx) -> list[Artifact]:
    """The manylinux2014 wheels of ``requirements`` and their closure for ``python_version``."""
    target = [
        "--only-binary=:all:",
        "--platform",
        WHEEL_PLATFORM,
        "--python-version",
        python_version,
        "--implementation",
        "cp",
    ]
    with tempfile.TemporaryDirectory(prefix="bosh-bundle-wheels-") as tmp:
        tmp_path = Path(tmp)
        report = tmp_path / "report.json"
        _pip(
            ["install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report), *target]
            + ["--target", str(tmp_path / "target"), *requirements],
            f"resolve the installer's wheels for Python {python_version} ({WHEEL_PLATFORM})",
        )
        planned = _read_report(report)
        pins = [f"{name}=={version}" for name, version, _url, _sha in planned]
        dest = tmp_path / "wheels"
        _pip(["download", "--no-deps", "--dest", str(dest), *target, *pins], "download the installer's wheels")
        artifacts = [_cached_wheel(ctx, dest, *plan) for plan in planned]
    if artifacts:
        ctx.warn(
            f"runtime: {len(artifacts)} wheels for Python {python_version} are trusted on first download "
            "(sha256 as pip's index gave it, no signature)"
        )
    return sorted(artifacts, key=lambda a: a.path)


def _cached_wheel(ctx, dest: Path, name: str, version: str, url: str, sha: str | None) -> Artifact:
    """The wheel pip downloaded into ``dest``, put into the cache through the one downloader (a
    ``file://`` copy, hashed as it is written) and checked against the sha256 the index gave."""
    file_name = PurePosixPath(unquote(urlparse(url).path)).name
    path = dest / file_name
    if not path.is_file():
        raise FetchError(f"pip download did not produce {file_name} for {name} {version}")
    try:
        got = download_to_cache(ctx.http, path.as_uri(), ctx.cache, what=f"wheel {file_name}", sha256=sha)
    except ChecksumMismatch as exc:
        raise IntegrityError(f"{file_name}: pip downloaded sha256 {exc.got_sha256}, the index said {sha}") from None
    member = f"runtime/wheels/{file_name}"
    return Artifact("wheel", name, version, url, got.size, got.sha256, "first-download", member)


def _read_report(report: Path) -> list[tuple[str, str, str, str | None]]:
    data = json.loads(report.read_text(encoding="utf-8"))
    out = []
    for item in data.get("install", []):
        info = item.get("download_info") or {}
        url = info.get("url", "")
        hashes = (info.get("archive_info") or {}).get("hashes") or {}
        meta = item.get("metadata") or {}
        if not url.endswith(".whl"):
            raise ResolutionError(f"pip chose {url or meta.get('name')!r}, which is not a wheel")
        out.append((_canonical(meta["name"]), meta["version"], url, hashes.get("sha256")))
    return sorted(out)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
