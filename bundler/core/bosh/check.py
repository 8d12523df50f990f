"""Checking a release or stemcell tarball: its insides, and that it is what the lock says it is.

``inspect_chunks`` reads a tarball once (``tarball.scan_tarball``), tells release from stemcell by
its manifest (or is told), parses and validates it (``release.py``, ``stemcell.py``): an
``Inspection`` holds what it is and every problem with its insides.  ``identity_problems`` then
compares its own description (name, version, operating system, AMIs) with the lock's entry.
``check_artifact`` is the contents check of ``bundler.core.contents`` for releases and stemcells
(build and verify on both sides run it); ``verify_artifact`` adds size and sha256 against the lock
in the same read; ``inspect_tarball`` serves ``bosh-bundle bosh check`` and the lock's download,
which read a tarball no lock names yet.  Each problem is a ``Problem`` whose place is the artifact
and its file (``label``), its message naming the inner file.

Imports only ``bundler.core``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from bundler.core.bosh.release import ReleaseManifest, parse_release, validate_release
from bundler.core.bosh.stemcell import StemcellManifest, is_light, parse_stemcell, validate_stemcell
from bundler.core.bosh.stream import file_chunks
from bundler.core.bosh.tarball import TarballScan, scan_tarball
from bundler.core.lock import Artifact
from bundler.core.problems import Problem


@dataclass
class Inspection:
    """One read of a release or stemcell tarball: what it is, what it says, and what is wrong with it."""

    kind: str | None  # "release" | "stemcell" | None (neither manifest found)
    scan: TarballScan
    release: ReleaseManifest | None = None
    stemcell: StemcellManifest | None = None
    problems: list[str] = field(default_factory=list)  # without the artifact label

    @property
    def name(self) -> str:
        m = self.release or self.stemcell
        return m.name if m else ""

    @property
    def version(self) -> str:
        m = self.release or self.stemcell
        return m.version if m else ""

    @property
    def variant(self) -> str | None:
        if self.stemcell is None:
            return None
        return "light" if is_light(self.scan, self.stemcell) else "regular"

    def facts(self) -> dict[str, Any]:
        """What a lock and ``--json`` record about it."""
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "version": self.version}
        if self.stemcell is not None:
            out["variant"] = self.variant
            out["operating_system"] = self.stemcell.operating_system
            if self.variant == "light":
                out["ami"] = dict(sorted(self.stemcell.ami.items()))
        return out


def inspect_chunks(
    chunks: Iterable[bytes],
    *,
    kind: str | None = None,
    variant: str | None = None,
    digests: Iterable[str] = (),
    sink: BinaryIO | None = None,
) -> Inspection:
    """Read a tarball once, tell release from stemcell (or use ``kind``), parse and validate it."""
    scan = scan_tarball(chunks, digests=digests, sink=sink)
    if kind is None:
        kind = "release" if "release.MF" in scan.small else "stemcell" if "stemcell.MF" in scan.small else None
    found = Inspection(kind, scan)
    if kind == "release":
        found.release, found.problems = parse_release(scan)
        found.problems = _dedupe(validate_release(scan, found.release) + found.problems)
    elif kind == "stemcell":
        found.stemcell, found.problems = parse_stemcell(scan)
        found.problems = _dedupe(validate_stemcell(scan, found.stemcell, variant) + found.problems)
    else:
        found.problems = validate_release(scan, None) or [
            "has neither release.MF nor stemcell.MF: not a BOSH release or stemcell tarball"
        ]
    return found


def _dedupe(problems: list[str]) -> list[str]:
    return list(dict.fromkeys(problems))


def inspect_tarball(
    path: Path, *, kind: str | None = None, variant: str | None = None, digests: Iterable[str] = ()
) -> Inspection:
    return inspect_chunks(file_chunks(Path(path)), kind=kind, variant=variant, digests=digests)


def label(kind: str | None, name: str, version: str, where: str) -> str:
    """How a problem names a tarball: ``release bosh 233 (releases/bosh-233.tgz)``."""
    what = f"{kind} {name} {version}".strip() if name else (kind or "tarball")
    return f"{what} ({where})"


def _stemcell_identity(stemcell: StemcellManifest, meta: dict[str, Any]) -> list[str]:
    problems = []
    os_ = meta.get("operating_system")
    if os_ and stemcell.operating_system != os_:
        problems.append(f"stemcell.MF gives operating_system {stemcell.operating_system!r}, the lock expects {os_!r}")
    if meta.get("variant") == "light":
        want = {str(k): str(v) for k, v in (meta.get("ami") or {}).items()}
        have = stemcell.ami
        for region in sorted(set(want) | set(have)):
            if want.get(region) != have.get(region):
                problems.append(
                    f"stemcell.MF cloud_properties.ami.{region} is {have.get(region) or 'absent'},"
                    f" the lock says {want.get(region) or 'absent'}"
                )
    return problems


def identity_problems(found: Inspection, artifact: Artifact) -> list[str]:
    """The tarball's own description against what the lock says it is."""
    problems = []
    mf = "release.MF" if artifact.kind == "release" else "stemcell.MF"
    if found.kind is not None and found.kind != artifact.kind:
        problems.append(f"is a {found.kind} tarball, the lock expects a {artifact.kind}")
        return problems
    if found.release is None and found.stemcell is None:
        return problems
    if found.name != artifact.name:
        problems.append(f"{mf} names the {artifact.kind} {found.name!r}, the lock expects {artifact.name!r}")
    if found.version != artifact.version:
        problems.append(f"{mf} gives version {found.version!r}, the lock expects {artifact.version!r}")
    if found.stemcell is not None:
        problems += _stemcell_identity(found.stemcell, artifact.meta)
    return problems


def _where(artifact: Artifact) -> str:
    return label(artifact.kind, artifact.name, artifact.version, artifact.path)


def _artifact_problems(found: Inspection, artifact: Artifact) -> list[Problem]:
    where = _where(artifact)
    return [Problem(where, p) for p in _dedupe(found.problems + identity_problems(found, artifact))]


def check_artifact(path: Path, artifact: Artifact) -> list[Problem]:
    """Every problem with the contents of ``path`` as the lock's ``artifact`` (empty when all is right)."""
    found = inspect_tarball(path, kind=artifact.kind, variant=artifact.meta.get("variant"))
    return _artifact_problems(found, artifact)


@dataclass(frozen=True)
class Verified:
    sha256: str | None  # None when the tarball could not be read to its end
    size: int
    problems: tuple[Problem, ...]


def verify_artifact(path: Path, artifact: Artifact) -> Verified:
    """``check_artifact`` plus size and sha256 against the lock, all in one read of the file."""
    found = inspect_tarball(path, kind=artifact.kind, variant=artifact.meta.get("variant"), digests=("sha256",))
    problems = _artifact_problems(found, artifact)
    sha256 = found.scan.digests.get("sha256")
    where = _where(artifact)
    if found.scan.error is None and found.scan.size != artifact.size:
        problems.insert(0, Problem(where, f"size is {found.scan.size} bytes, the lock says {artifact.size}"))
    elif sha256 is not None and sha256 != artifact.sha256:
        problems.insert(0, Problem(where, f"sha256 is {sha256}, the lock says {artifact.sha256}"))
    return Verified(sha256, found.scan.size, tuple(problems))
