"""Compiled releases against the bundled stemcell: a compiled package runs only on the stemcell it was
compiled for.

A compiled release's ``release.MF`` lists ``compiled_packages``, each with ``stemcell: OS/VERSION``
(``ubuntu-noble/1.103``).  bosh finds a mismatch only at deploy time, on the far side of the air gap;
``bundle_problems`` finds it before: every compiled release in a bundle must have been compiled for
the operating system and version of a stemcell the bundle carries.  Each problem names the release,
its packages, the stemcell they were compiled for and the bundled stemcell(s).  ``compiled_for``
reads only ``release.MF`` (the first member of a release tarball, so it is cheap).  Used by lock,
build, verify and ``bosh-bundle bosh check --stemcell``.

Imports only ``bundler.core``.
"""

from __future__ import annotations

import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bundler.core.bosh.check import label
from bundler.core.lock import Lock
from bundler.core.problems import Problem

MAX_MANIFEST = 16 * 1024 * 1024


@dataclass(frozen=True)
class StemcellIdentity:
    where: str  # how problems name it: "stemcell bosh-aws-xen-hvm-ubuntu-noble-go_agent 1.103 (PATH)"
    operating_system: str
    version: str

    @property
    def compiled_name(self) -> str:
        return f"{self.operating_system}/{self.version}"


def compiled_for(path: Path) -> dict[str, str]:
    """package -> ``OS/VERSION`` of every compiled package in the release tarball (empty: a source release
    or no readable release.MF; the contents checks report an unreadable tarball)."""
    try:
        with tarfile.open(path, mode="r|gz") as tar:
            for member in tar:
                if member.name.removeprefix("./") == "release.MF" and member.isfile():
                    if member.size > MAX_MANIFEST:
                        return {}
                    doc = yaml.safe_load(tar.extractfile(member).read())
                    return _compiled(doc)
    except (OSError, tarfile.TarError, EOFError, yaml.YAMLError):
        return {}
    return {}


def _compiled(doc: object) -> dict[str, str]:
    if not isinstance(doc, dict):
        return {}
    out = {}
    for p in doc.get("compiled_packages") or ():
        if isinstance(p, dict) and p.get("name"):
            out[str(p["name"])] = str(p.get("stemcell") or "")
    return dict(sorted(out.items()))


def release_problems(where: str, compiled: Mapping[str, str], stemcells: Sequence[StemcellIdentity]) -> list[Problem]:
    """The problems of one release (``where`` names it) against the bundled stemcells."""
    if not compiled or not stemcells:
        return []
    wanted = {s.compiled_name for s in stemcells}
    by_stemcell: dict[str, list[str]] = {}
    for package, stemcell in compiled.items():
        if stemcell not in wanted:
            by_stemcell.setdefault(stemcell or "no stemcell", []).append(package)
    bundled = "; ".join(f"{s.where} is {s.compiled_name}" for s in stemcells)
    return [
        Problem(
            where,
            f"package{'s' if len(packages) > 1 else ''} {', '.join(packages)} compiled for stemcell {stemcell},"
            f" but the bundled stemcell {bundled}: use the release compiled for that stemcell"
            f" (or the stemcell {stemcell})",
        )
        for stemcell, packages in sorted(by_stemcell.items())
    ]


def lock_stemcells(lock: Lock) -> list[StemcellIdentity]:
    return [
        StemcellIdentity(
            label("stemcell", a.name, a.version, a.path), str(a.meta.get("operating_system", "")), a.version
        )
        for a in lock.by_kind("stemcell")
    ]


def bundle_problems(lock: Lock, files: Mapping[str, Path]) -> list[Problem]:
    """Every compiled release of ``lock`` (its file in ``files``, by bundle path) against its stemcells."""
    stemcells = lock_stemcells(lock)
    if not stemcells:
        return []
    problems = []
    for a in lock.by_kind("release"):
        path = files.get(a.path)
        if path is not None:
            problems += release_problems(label("release", a.name, a.version, a.path), compiled_for(path), stemcells)
    return problems
