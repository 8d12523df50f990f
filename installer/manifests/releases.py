"""Inside the releases a manifest names: their ``release.MF``, against the jobs the manifest asks for.

bosh-init reads each release tarball before it deploys: the release must carry the name the
manifest gives it, and every job the manifest names (MicroBOSH's ``jobs[].templates`` and
``cloud_provider.template``; the BOSH v1 manifest's ``jobs[].template(s)``) must be one of its jobs.
``named_jobs`` lists what a manifest names; ``job_problems`` compares it with the releases read.

Reading: ``release.MF`` is the first member of a release tarball made by ``bosh create-release``
(older tarballs may have it anywhere), so ``release_contents`` gunzips only until it has it, from a
file (``read_release_file``) or from a member of the bundle's payload (``ReleaseReader``: the
extracted file when there is one, else the payload volumes, opened once).  ``parse_release``
(``bundler.core.bosh.release``) reads it.
The whole tarball's integrity is the verify step's and ``bosh-bundle bosh check``'s question.

``file_problems`` checks a manifest's ``file://`` artifacts as bosh-init will find them on disk;
``manifests.check`` checks the rendered manifests' releases in the bundle (``bundle_problems``).
Imports ``bundler.core`` (payload, password, tarball readers, problems) and the renderer's ``Rendered``.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundler.core.archive import Payload
from bundler.core.bosh.check import label
from bundler.core.bosh.release import ReleaseManifest, parse_release
from bundler.core.bosh.stream import file_chunks
from bundler.core.bosh.tarball import TarballScan
from bundler.core.errors import InputError, IntegrityError
from bundler.core.lock import Artifact
from bundler.core.password import read_password
from bundler.core.problems import Problem
from bundler.core.volumes import find_volumes
from installer.manifests.render import Rendered

_CHUNK = 256 * 1024
_MAX_MF = 16 * 1024 * 1024
_STEP = 16 * 1024  # raw bytes fed, and tar bytes gunzipped, at a time


class _ReleaseMfFinder:
    """Fed the raw bytes of a release tarball, keeps gunzipping and walking tar headers until it
    has ``release.MF`` (``done``); ``problem`` says why it could not."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(wbits=31)
        self._buf = bytearray()
        self._skip = 0
        self._want: int | None = None
        self.data: bytes | None = None
        self.problem: str | None = None

    @property
    def done(self) -> bool:
        return self.data is not None or self.problem is not None

    def feed(self, raw: bytes) -> None:
        """Gunzip ``raw`` a little at a time: a damaged end is not reached before release.MF, and the
        input left over after each step (copied by zlib) stays small."""
        view = memoryview(raw)
        for start in range(0, len(view), _STEP):
            if self.done:
                return
            self._feed(view[start : start + _STEP])

    def _feed(self, raw: bytes | memoryview) -> None:
        while raw and not self.done:
            try:
                self._buf += self._z.decompress(raw, _STEP)
            except zlib.error as exc:
                self.problem = f"is not a gzip-compressed tarball ({exc})"
                return
            raw = self._z.unconsumed_tail
            if self._z.eof and self._z.unused_data:  # concatenated gzip members
                raw, self._z = self._z.unused_data, zlib.decompressobj(wbits=31)
            self._walk()

    def end(self) -> None:
        if not self.done:
            self.problem = "has no release.MF (is it a release tarball?)"

    def _walk(self) -> None:
        while not self.done:
            if self._skip:
                n = min(self._skip, len(self._buf))
                del self._buf[:n]
                self._skip -= n
                if self._skip:
                    return
            elif self._want is not None:
                if len(self._buf) < self._want:
                    return
                self.data = bytes(self._buf[: self._want])
            elif len(self._buf) < 512:
                return
            else:
                self._header(bytes(self._buf[:512]))
                del self._buf[:512]

    def _header(self, block: bytes) -> None:
        if block == bytes(512):
            self.end()
            return
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError as exc:
            self.problem = f"is not a readable tar archive ({exc})"
            return
        name = info.name.removeprefix("./")
        if info.type in tarfile.REGULAR_TYPES and name == "release.MF":
            if info.size > _MAX_MF:
                self.problem = f"has a release.MF of {info.size} bytes (more than {_MAX_MF})"
            self._want = info.size
        else:
            self._skip = info.size + (-info.size % 512)


@dataclass(frozen=True)
class ReleaseContents:
    """What the ``release.MF`` of one tarball says, or why it could not be read."""

    manifest: ReleaseManifest | None
    problem: str | None = None


def release_contents(chunks: Iterable[bytes]) -> ReleaseContents:
    """The release.MF of the tarball whose raw bytes ``chunks`` are (read only as far as it)."""
    finder = _ReleaseMfFinder()
    for chunk in chunks:
        finder.feed(chunk)
        if finder.done:
            break
    return _contents(finder)


def _contents(finder: _ReleaseMfFinder) -> ReleaseContents:
    finder.end()
    if finder.data is None:
        return ReleaseContents(None, f"the tarball {finder.problem}")
    manifest, problems = parse_release(TarballScan(small={"release.MF": finder.data}))
    return ReleaseContents(manifest, "; ".join(problems) if manifest is None or not manifest.name else None)


def read_release_file(path: Path) -> ReleaseContents:
    try:
        return release_contents(file_chunks(Path(path), _CHUNK))
    except OSError as exc:
        return ReleaseContents(None, f"cannot read {path} ({exc.strerror or exc})")


class ReleaseReader:
    """The locked release tarballs, read where the renderer put them (the extracted payload) or,
    when they are not there, from the bundle's payload volumes; each read once."""

    def __init__(self, bundle: Path | None) -> None:
        self.bundle = bundle
        self._payload: Payload | None = None
        self._payload_problem: str | None = None
        self._read: dict[Path, ReleaseContents] = {}

    def __enter__(self) -> ReleaseReader:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._payload is not None:
            self._payload.close()

    def read(self, path: Path, artifact: Artifact) -> ReleaseContents:
        if path not in self._read:
            self._read[path] = read_release_file(path) if path.exists() else self._from_bundle(path, artifact)
        return self._read[path]

    def _open(self) -> Payload | None:
        if self._payload is None and self._payload_problem is None:
            try:
                try:
                    self._payload = Payload(find_volumes(self.bundle))
                except InputError:  # encrypted, and no password in the environment: ask on a terminal
                    self._payload = Payload(find_volumes(self.bundle), read_password(confirm=False))
            except (InputError, IntegrityError) as exc:
                self._payload_problem = str(exc)
        return self._payload

    def _from_bundle(self, path: Path, artifact: Artifact) -> ReleaseContents:
        if self.bundle is None:
            return ReleaseContents(
                None, f"{path} is not extracted and no --bundle was given: extract it or pass --bundle"
            )
        payload = self._open()
        if payload is None:
            return ReleaseContents(None, f"cannot read the bundle's payload: {self._payload_problem}")
        member = next((m for m in payload.members if m.name == artifact.path), None)
        if member is None:
            return ReleaseContents(None, f"neither extracted ({path}) nor in the payload of {self.bundle}")
        try:
            if member.offset is not None:
                return release_contents(payload.iter_member(member, _CHUNK))
            finder = _ReleaseMfFinder()
            payload.stream(lambda _name, data: finder.feed(data), [member.name])  # encrypted: decoded by py7zr
            return _contents(finder)
        except IntegrityError as exc:
            return ReleaseContents(None, str(exc))


# ---------------------------------------------------------------- what a manifest names


@dataclass(frozen=True)
class NamedJob:
    where: str  # manifest key path: jobs[0].templates[3], cloud_provider.template
    job: str
    release: str


def _release_names(kind: str, m: Mapping[str, Any]) -> list[str]:
    if kind == "bosh" and isinstance(m.get("release"), dict):
        return [str(m["release"].get("name"))]
    return [str(r.get("name")) for r in m.get("releases") or [] if isinstance(r, dict)]


def named_jobs(kind: str, m: Any) -> list[NamedJob]:
    """Every job ``m`` asks a release for, with the release (a v1 ``template`` takes the only one)."""
    if not isinstance(m, dict):
        return []
    names = _release_names(kind, m)
    only = names[0] if len(names) == 1 else None
    out: list[NamedJob] = []
    for i, job in enumerate(m.get("jobs") or []):
        if not isinstance(job, dict):
            continue
        template = job.get("template")
        for j, name in enumerate([template] if isinstance(template, str) else template or []):
            if isinstance(name, str) and only:
                out.append(
                    NamedJob(f"jobs[{i}].template" + (f"[{j}]" if isinstance(template, list) else ""), name, only)
                )
        for j, t in enumerate(job.get("templates") or []):
            if isinstance(t, dict) and t.get("name") and (t.get("release") or only):
                out.append(NamedJob(f"jobs[{i}].templates[{j}]", str(t["name"]), str(t.get("release") or only)))
    cpi = (m.get("cloud_provider") or {}).get("template") if kind == "microbosh" else None
    if isinstance(cpi, dict) and cpi.get("name") and cpi.get("release"):
        out.append(NamedJob("cloud_provider.template", str(cpi["name"]), str(cpi["release"])))
    return out


def missing_jobs(kind: str, m: Any, releases: Mapping[str, ReleaseManifest]) -> list[tuple[NamedJob, ReleaseManifest]]:
    """Each job ``m`` names that its release (when it was read) does not have."""
    out = []
    for named in named_jobs(kind, m):
        release = releases.get(named.release)
        if release is not None and named.job not in {j.name for j in release.jobs}:
            out.append((named, release))
    return out


def _has(release: ReleaseManifest) -> str:
    return ", ".join(sorted(j.name for j in release.jobs)) or "none"


def job_problems(kind: str, m: Any, releases: Mapping[str, ReleaseManifest]) -> list[Problem]:
    """``missing_jobs`` as problems at the manifest key paths."""
    return [
        Problem(
            f"{named.where}.name",
            f"job {named.job!r} is not in release {release.name} {release.version} (it has: {_has(release)})",
        )
        for named, release in missing_jobs(kind, m, releases)
    ]


def name_problem(expected: str, manifest: ReleaseManifest, who: str = "the manifest names") -> str | None:
    """A release tarball whose release.MF carries another name than the one it is deployed under."""
    if manifest.name == expected:
        return None
    return (
        f"its release.MF names the release {manifest.name!r}, but {who} it {expected!r}: it is another"
        " release (bosh-init: 'Release name does not match the name in release tarball')"
    )


# ---------------------------------------------------------------- the two ways of checking


def file_problems(kind: str, m: Any) -> list[Problem]:
    """A manifest's ``file://`` releases and stemcells as bosh-init will read them from disk."""
    if not isinstance(m, dict):
        return []
    out: list[Problem] = []
    found: dict[str, ReleaseManifest] = {}
    items = [(f"releases[{i}]", r) for i, r in enumerate(m.get("releases") or []) if isinstance(r, dict)]
    items += [
        (f"resource_pools[{i}].stemcell", (p.get("stemcell") or {}))
        for i, p in enumerate(m.get("resource_pools") or [])
    ]
    for where, item in items:
        url = item.get("url")
        if not isinstance(url, str) or not url.startswith("file://"):
            continue
        path = Path(url.removeprefix("file://"))
        if not path.is_file():
            out.append(Problem(f"{where}.url", f"{path}: no such file"))
        elif where.startswith("releases"):
            contents = read_release_file(path)
            if contents.manifest is None:
                out.append(Problem(f"{where}.url", f"{path}: {contents.problem}"))
                continue
            wrong = name_problem(str(item.get("name")), contents.manifest) if item.get("name") else None
            if wrong:
                out.append(Problem(f"{where}.name", f"{path}: {wrong}"))
            found[str(item.get("name"))] = contents.manifest
    return out + job_problems(kind, m, found)


def bundle_problems(rendered: Rendered, reader: ReleaseReader) -> list[Problem]:
    """The rendered manifest's releases, read from the bundle: named as the lock says, with its jobs."""
    out: list[Problem] = []
    found: dict[str, ReleaseManifest] = {}
    for af in rendered.artifacts:
        art = af.artifact
        if art.kind != "release":
            continue
        where = label(art.kind, art.name, art.version, art.path)
        contents = reader.read(af.path, art)
        if contents.manifest is None:
            out.append(
                Problem(
                    where, f"cannot look inside it for the jobs the {rendered.kind} manifest names: {contents.problem}"
                )
            )
            continue
        wrong = name_problem(art.name, contents.manifest, "the lock and the manifests name")
        if wrong:
            out.append(Problem(where, f"{wrong}; transfer or rebuild the bundle"))
        found[art.name] = contents.manifest
    artifacts = {af.artifact.name: af.artifact for af in rendered.artifacts}
    missing: dict[str, dict[str, list[str]]] = {}  # release -> job -> where the manifest names it
    for named, _release in missing_jobs(rendered.kind, rendered.manifest, found):
        missing.setdefault(named.release, {}).setdefault(named.job, []).append(named.where)
    tool = "bosh-init" if rendered.kind == "microbosh" else "the director"
    for name, jobs in missing.items():
        art = artifacts[name]
        listed = ", ".join(f"{job!r} (at {', '.join(places)})" for job, places in jobs.items())
        many = len(jobs) > 1
        out.append(
            Problem(
                label(art.kind, art.name, art.version, art.path),
                f"has no job{'s' if many else ''} {listed}, which the {rendered.kind} manifest names (the release"
                f" has: {_has(found[name])}); {tool} refuses it: rebuild the bundle with a release that has"
                f" {'them' if many else 'it'}",
            )
        )
    return out
