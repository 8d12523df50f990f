"""The director manifest as the real bosh CLI interpolates it, and what it names.

``interpolate`` runs ``bosh int MANIFEST -o OPS…`` with the locked bosh CLI binary (its cache file is
hashed again first: the bytes run are the bytes locked), in bosh-deployment's root, with its own
HOME and a timeout; variables stay ``((…))``.  ``tarballs`` lists every release and stemcell the
result names with its ``url`` and ``sha1``: releases by name (``/releases/name=N/url``) and the
stemcell of each ``resource_pools`` entry (``/resource_pools/name=P/stemcell/url``), as go-patch
paths the installer's offline ops file replaces.  A ``sha1`` of the form ``sha256:HEX`` (bosh
accepts it) is a sha256.

Imports ``bundler.core``.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bundler.core.digest import sha256_file
from bundler.core.errors import InputError, IntegrityError, ResolutionError

TIMEOUT = 120
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^sha256:([0-9a-f]{64})$")


@dataclass(frozen=True)
class Tarball:
    kind: str  # release | stemcell
    name: str  # release name, or the resource pool's name for a stemcell
    version: str  # release version; "latest" for a stemcell (learned from the tarball)
    url: str
    sha1: str | None
    sha256: str | None
    patch_path: str  # go-patch path of its url


def interpolate(cli: Path, cli_sha256: str, root: Path, manifest: str, ops_files: Sequence[str]) -> dict[str, Any]:
    """``bosh int`` of ``root/manifest`` with ``ops_files`` (relative to root, or absolute)."""
    got = sha256_file(cli)
    if got != cli_sha256:
        raise IntegrityError(f"{cli}: sha256 is {got}, the lock says {cli_sha256}; not running it")
    missing = [o for o in (manifest, *ops_files) if not (root / o).is_file()]
    if missing:
        raise InputError(f"bosh-deployment has no {', '.join(missing)} (check director.manifest and ops_files)")
    os.chmod(cli, 0o755)
    argv = [str(cli), "int", manifest, *[a for o in ops_files for a in ("-o", o)]]
    with tempfile.TemporaryDirectory(prefix="bosh-int-home.") as home:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8"}
        try:
            proc = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise ResolutionError(f"bosh int {manifest} did not finish in {TIMEOUT} s") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise InputError(f"bosh int {' '.join(argv[2:])} failed (exit {proc.returncode}): {' '.join(detail[-3:])}")
    doc = yaml.safe_load(proc.stdout)
    if not isinstance(doc, dict):
        raise InputError(f"bosh int {manifest} gave no manifest")
    return doc


def _digests(what: str, value: Any) -> tuple[str | None, str | None]:
    text = str(value or "").strip().lower()
    if _SHA1.match(text):
        return text, None
    m = _SHA256.match(text)
    if m:
        return None, m.group(1)
    raise InputError(f"{what}: sha1 {value!r} is neither 40 hex digits nor sha256:HEX")


def _entry(kind: str, what: str, item: dict, name: str, version: str, patch_path: str) -> Tarball:
    url = item.get("url")
    if not isinstance(url, str) or not url:
        raise InputError(f"{what} has no url in the interpolated manifest")
    sha1, sha256 = _digests(what, item.get("sha1"))
    return Tarball(kind, name, version, url, sha1, sha256, patch_path)


def tarballs(doc: dict[str, Any]) -> list[Tarball]:
    """Every release and stemcell the interpolated manifest names."""
    out = []
    for rel in doc.get("releases") or ():
        name, version = str(rel.get("name")), str(rel.get("version"))
        out.append(_entry("release", f"release {name}", rel, name, version, f"/releases/name={name}/url"))
    for pool in doc.get("resource_pools") or ():
        stemcell, name = pool.get("stemcell"), str(pool.get("name"))
        if isinstance(stemcell, dict):
            path = f"/resource_pools/name={name}/stemcell/url"
            out.append(_entry("stemcell", f"the stemcell of resource pool {name}", stemcell, name, "latest", path))
    if not any(t.kind == "stemcell" for t in out):
        raise InputError(
            "the interpolated manifest names no stemcell (is the CPI's ops file, e.g. aws/cpi.yml, listed?)"
        )
    return out
