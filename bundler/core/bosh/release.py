"""A BOSH release's ``release.MF`` and its jobs' ``job.MF``: the types, their reader, their validator.

The dataclasses mirror ``release.MF`` field for field (as bosh-cli's ``release/manifest``);
``parse_release`` reads them from a ``TarballScan`` and ``parse_job`` reads a job's ``job.MF``;
``validate_release`` returns *every* problem with the tarball's insides, each naming the inner file
(a part missing or unlisted, a sha1 or sha256 that does not match, a job without its monit file or
a template, a job or package needing a package the release does not have), like bosh-cli's
validator.  Whether it is the release the lock names is ``check.py``'s question.  Problems are
sentences (strings): ``check.py`` gives them the artifact as their place.

Imports only ``bundler.core.bosh``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bundler.core.bosh.manifest import load_manifest, text
from bundler.core.bosh.tarball import JobArchive, Member, TarballScan, scan_problem


@dataclass(frozen=True)
class JobRef:
    name: str
    version: str
    fingerprint: str
    sha1: str


@dataclass(frozen=True)
class PackageRef:
    name: str
    version: str
    fingerprint: str
    sha1: str
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompiledPackageRef:
    name: str
    version: str
    fingerprint: str
    sha1: str
    stemcell: str
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class LicenseRef:
    version: str
    fingerprint: str
    sha1: str


@dataclass(frozen=True)
class ReleaseManifest:
    """``release.MF``."""

    name: str
    version: str
    commit_hash: str = ""
    uncommitted_changes: bool = False
    jobs: tuple[JobRef, ...] = ()
    packages: tuple[PackageRef, ...] = ()
    compiled_packages: tuple[CompiledPackageRef, ...] = ()
    license: LicenseRef | None = None


@dataclass(frozen=True)
class JobManifest:
    """``job.MF`` inside ``jobs/NAME.tgz``."""

    name: str
    templates: Mapping[str, str] = field(default_factory=dict)  # source under templates/ -> destination
    packages: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()


# --- reading -----------------------------------------------------------------------------------


def _refs(doc: dict, key: str, problems: list[str], build: Callable[[dict], Any]) -> tuple:
    raw = doc.get(key) or []
    if not isinstance(raw, list):
        problems.append(f"release.MF: '{key}' is not a list")
        return ()
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not item.get("name"):
            problems.append(f"release.MF: {key}[{i}] has no name")
            continue
        out.append(build(item))
    return tuple(out)


def _deps(item: dict) -> tuple[str, ...]:
    return tuple(text(d) for d in item.get("dependencies") or ())


def _job_ref(j: dict) -> JobRef:
    return JobRef(text(j["name"]), text(j.get("version")), text(j.get("fingerprint")), text(j.get("sha1")))


def _package_ref(p: dict) -> PackageRef:
    return PackageRef(
        text(p["name"]), text(p.get("version")), text(p.get("fingerprint")), text(p.get("sha1")), _deps(p)
    )


def _compiled_ref(p: dict) -> CompiledPackageRef:
    return CompiledPackageRef(
        text(p["name"]),
        text(p.get("version")),
        text(p.get("fingerprint")),
        text(p.get("sha1")),
        text(p.get("stemcell")),
        _deps(p),
    )


def parse_release(scan: TarballScan) -> tuple[ReleaseManifest | None, list[str]]:
    problems: list[str] = []
    data = scan.small.get("release.MF")
    if data is None:
        return None, ["release.MF is missing"]
    doc = load_manifest(data, "release.MF", problems)
    if doc is None:
        return None, problems
    for key in ("name", "version"):
        if not doc.get(key):
            problems.append(f"release.MF has no '{key}'")
    lic = doc.get("license")
    manifest = ReleaseManifest(
        name=text(doc.get("name")),
        version=text(doc.get("version")),
        commit_hash=text(doc.get("commit_hash")),
        uncommitted_changes=bool(doc.get("uncommitted_changes")),
        jobs=_refs(doc, "jobs", problems, _job_ref),
        packages=_refs(doc, "packages", problems, _package_ref),
        compiled_packages=_refs(doc, "compiled_packages", problems, _compiled_ref),
        license=(
            LicenseRef(text(lic.get("version")), text(lic.get("fingerprint")), text(lic.get("sha1")))
            if isinstance(lic, dict)
            else None
        ),
    )
    return manifest, problems


def parse_job(job: JobArchive, inner: str) -> tuple[JobManifest | None, list[str]]:
    if job.error:
        return None, [f"{inner} {job.error}"]
    if job.job_mf is None:
        return None, [f"{inner} has no job.MF"]
    problems: list[str] = []
    doc = load_manifest(job.job_mf, f"{inner}: job.MF", problems)
    if doc is None:
        return None, problems
    templates = doc.get("templates") or {}
    if not isinstance(templates, dict):
        problems.append(f"{inner}: job.MF 'templates' is not a mapping")
        templates = {}
    props = doc.get("properties") or {}
    return (
        JobManifest(
            name=text(doc.get("name")),
            templates={text(k): text(v) for k, v in templates.items()},
            packages=tuple(text(p) for p in doc.get("packages") or ()),
            properties=tuple(sorted(text(k) for k in props)) if isinstance(props, dict) else (),
        ),
        problems,
    )


# --- validating: every problem, each naming the inner file -------------------------------------


def _digest_problem(inner: str, member: Member, expected: str) -> str | None:
    """``expected`` is a bare sha1 or bosh's multi-digest ``sha1;sha256:HEX``; all given must match."""
    expected = expected.strip().lower()
    if not expected:
        return f"{inner}: release.MF gives no sha1 for it"
    for part in expected.split(";"):
        algo, _, value = part.rpartition(":")
        algo = algo or "sha1"
        got = member.sha1 if algo == "sha1" else member.sha256 if algo == "sha256" else None
        if got is None:
            continue
        if got != value:
            return f"{inner} {algo} {got} does not match release.MF {value}"
    return None


def _part_problems(scan: TarballScan, inner: str, sha1: str) -> tuple[bool, list[str]]:
    """(present, problems) of a part ``release.MF`` lists with ``sha1``."""
    member = scan.members.get(inner)
    if member is None:
        return False, [f"{inner} is listed in release.MF but missing from the tarball"]
    bad = _digest_problem(inner, member, sha1)
    return True, [bad] if bad else []


def _job_problems(scan: TarballScan, job: JobRef, packages: set[str]) -> list[str]:
    inner = f"jobs/{job.name}.tgz"
    present, problems = _part_problems(scan, inner, job.sha1)
    archive = scan.jobs.get(inner)
    if not present or archive is None:
        return problems
    job_mf, more = parse_job(archive, inner)
    problems += more
    if job_mf is None:
        return problems
    if job_mf.name and job_mf.name != job.name:
        problems.append(f"{inner}: job.MF names the job {job_mf.name!r}, release.MF {job.name!r}")
    if "monit" not in archive.files:
        problems.append(f"{inner}: job {job.name!r} is missing its monit file")
    for src in sorted(job_mf.templates):
        if f"templates/{src}" not in archive.files:
            problems.append(f"{inner}: template {src!r} named in job.MF is missing from templates/")
    for pkg in job_mf.packages:
        if pkg not in packages:
            problems.append(f"{inner}: job {job.name!r} requires package {pkg!r} which is not in the release")
    return problems


def _package_problems(
    scan: TarballScan, inner: str, pkg: PackageRef | CompiledPackageRef, packages: set[str]
) -> list[str]:
    present, problems = _part_problems(scan, inner, pkg.sha1)
    if present:
        for dep in pkg.dependencies:
            if dep not in packages:
                problems.append(f"{inner}: package {pkg.name!r} depends on {dep!r} which is not in the release")
    return problems


def validate_release(scan: TarballScan, manifest: ReleaseManifest | None) -> list[str]:
    """Every problem with a release tarball's insides (not its identity: see ``check.check_artifact``)."""
    problems: list[str] = []
    if scan.error:
        problems.append(scan_problem(scan) or "")
    if manifest is None:
        return problems
    packages = {p.name for p in manifest.packages} | {p.name for p in manifest.compiled_packages}
    listed = {f"jobs/{job.name}.tgz" for job in manifest.jobs}
    for job in manifest.jobs:
        problems += _job_problems(scan, job, packages)
    for group, refs in (("packages", manifest.packages), ("compiled_packages", manifest.compiled_packages)):
        for pkg in refs:
            inner = f"{group}/{pkg.name}.tgz"
            listed.add(inner)
            problems += _package_problems(scan, inner, pkg, packages)
    if manifest.license is not None and manifest.license.sha1:
        problems += _part_problems(scan, "license.tgz", manifest.license.sha1)[1]
    for name in sorted(scan.members):
        if name.startswith(("jobs/", "packages/", "compiled_packages/")) and name not in listed:
            problems.append(f"{name} is in the tarball but not in release.MF")
    return problems
