"""The lock file (``bundle.lock``): every artifact of a bundle, exactly, with the reason we trust it.

A lock is JSON with sorted keys and sorted artifacts and no timestamps, so the same spec against the
same upstream state gives the same bytes.  Each ``Artifact`` has the URL it is fetched from, its
size and sha256, where that checksum came from (``trust``) and its path inside the bundle payload.
Kind-specific facts (a deb's architecture, a gem's dependency edges, a stemcell's AMI regions) live
in ``meta``; whole-section facts (the deb install order) in ``sections``.

Trust sources:
  apt-release-signature  InRelease verified with gpgv, then Release -> Packages -> .deb sha256
  trusted-by-spec        an apt source the spec marks ``trusted: true`` (signature not checked)
  compact-index          the gem's sha256 from the compact index /info file
  bosh-io                sha1/sha256 from the bosh.io API
  pinned                 written in the spec by a person
  first-download         nothing published: the sha256 of the first download, warned about
  pinned-by-bosh-deployment  the sha1 (or ``sha256:…``) bosh-deployment's manifest gives, at a locked commit
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from bundler.core.errors import InputError

LOCK_FORMAT = 1
KINDS = ("deb", "ruby-source", "gem", "release", "stemcell", "binary", "runtime", "wheel", "manifest")
TRUSTS = (
    "apt-release-signature",
    "trusted-by-spec",
    "compact-index",
    "bosh-io",
    "pinned",
    "first-download",
    "pinned-by-bosh-deployment",
)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Artifact:
    kind: str
    name: str
    version: str
    url: str
    size: int
    sha256: str
    trust: str
    path: str  # relative POSIX path inside the payload, e.g. "debs/zlib1g_1.2.13.dfsg-1_amd64.deb"
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in KINDS:
            problems.append(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.trust not in TRUSTS:
            problems.append(f"trust {self.trust!r} is not one of {', '.join(TRUSTS)}")
        if not _SHA256.match(self.sha256):
            problems.append(f"sha256 {self.sha256!r} is not 64 lowercase hex digits")
        if not isinstance(self.size, int) or self.size < 0:
            problems.append(f"size {self.size!r} is not a non-negative integer")
        if not is_safe_member_path(self.path):
            problems.append(f"path {self.path!r} is not a relative path inside the bundle")
        if problems:
            raise InputError(f"artifact {self.kind} {self.name} {self.version}: " + "; ".join(problems))

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.name, self.version, self.path)

    def to_json(self) -> dict[str, Any]:
        out = {
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "url": self.url,
            "size": self.size,
            "sha256": self.sha256,
            "trust": self.trust,
            "path": self.path,
        }
        if self.meta:
            out["meta"] = dict(self.meta)
        return out


def is_safe_member_path(path: str) -> bool:
    """A relative POSIX path with no ``..``, no empty or ``.`` parts and no backslashes."""
    if not path or "\\" in path or path.startswith("/"):
        return False
    parts = PurePosixPath(path).parts
    return all(p not in ("", ".", "..") for p in parts) and "/".join(parts) == path


@dataclass(frozen=True)
class LockPart:
    """What one resolver contributes: its artifacts and an optional section of its own."""

    artifacts: tuple[Artifact, ...] = ()
    section_name: str | None = None
    section: Mapping[str, Any] = field(default_factory=dict)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


@dataclass(frozen=True)
class DebsSection:
    """``sections.debs``: what ``dpkg -i`` installs, in which order and in which calls."""

    install_order: tuple[str, ...] = ()  # payload paths, dependencies first
    stages: tuple[tuple[str, ...], ...] = ()  # one ``dpkg -i`` call each (Pre-Depends)
    runtime: tuple[str, ...] = ()  # ``runtime: distro``: the installer's own python3 debs
    runtime_stages: tuple[tuple[str, ...], ...] = ()
    base: str = "none"
    requested: tuple[str, ...] = ()
    upgrades: Mapping[str, Any] = field(default_factory=dict)
    removes: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> DebsSection:
        raw = raw or {}
        return cls(
            install_order=_strings(raw.get("install_order")),
            stages=tuple(_strings(s) for s in raw.get("stages") or ()),
            runtime=_strings(raw.get("runtime")),
            runtime_stages=tuple(_strings(s) for s in raw.get("runtime_stages") or ()),
            base=str(raw.get("base") or "none"),
            requested=_strings(raw.get("requested")),
            upgrades=dict(raw.get("upgrades") or {}),
            removes=_strings(raw.get("removes")),
        )


@dataclass(frozen=True)
class GemsSection:
    """``sections.gems``: the gem closure for the target Ruby, in ``gem install`` order."""

    install_order: tuple[str, ...] = ()  # payload paths
    ruby: str = ""
    rubygems: str = ""
    requested: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> GemsSection:
        raw = raw or {}
        return cls(
            install_order=_strings(raw.get("install_order")),
            ruby=str(raw.get("ruby") or ""),
            rubygems=str(raw.get("rubygems") or ""),
            requested=_strings(raw.get("requested")),
        )


@dataclass(frozen=True)
class RubySection:
    """``sections.ruby``: how the Ruby source is built on the target."""

    version: str = ""
    prefix: str = ""
    configure: tuple[str, ...] = ()
    rubygems: str = ""
    source: str = ""  # payload path of the source tarball

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> RubySection:
        raw = raw or {}
        return cls(
            version=str(raw.get("version") or ""),
            prefix=str(raw.get("prefix") or ""),
            configure=_strings(raw.get("configure")),
            rubygems=str(raw.get("rubygems") or ""),
            source=str(raw.get("source") or ""),
        )


@dataclass(frozen=True)
class RuntimeSection:
    """``sections.runtime``: the installer's own Python on the target (``distro`` or ``standalone``)."""

    mode: str = "distro"
    python_version: str = ""
    python: str = ""  # standalone: payload path of the python-build-standalone tarball
    wheels: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> RuntimeSection:
        raw = raw or {}
        return cls(
            mode=str(raw.get("mode") or "distro"),
            python_version=str(raw.get("python_version") or ""),
            python=str(raw.get("python") or ""),
            wheels=_strings(raw.get("wheels")),
        )


@dataclass(frozen=True)
class DirectorSection:
    """``sections.director``: ``bosh create-env`` from bosh-deployment (``toolchain: create-env``).

    ``ops_files`` in order, each ``{"bosh_deployment": "aws/cpi.yml"}`` or ``{"payload": PATH}`` (the
    spec's own); ``urls``: each release/stemcell ``url`` of the interpolated manifest as a go-patch
    path and the payload path of its tarball (``{"path": "/releases/name=bosh/url", "artifact": …}``)."""

    toolchain: str = "bosh-init"
    source: str = ""  # payload path of the bosh-deployment tarball
    top: str = ""  # its top directory
    manifest: str = "bosh.yml"
    ops_files: tuple[Mapping[str, str], ...] = ()
    cli: str = ""  # payload path of the bosh CLI
    urls: tuple[Mapping[str, str], ...] = ()

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> DirectorSection:
        raw = raw or {}
        return cls(
            toolchain=str(raw.get("toolchain") or "bosh-init"),
            source=str(raw.get("source") or ""),
            top=str(raw.get("top") or ""),
            manifest=str(raw.get("manifest") or "bosh.yml"),
            ops_files=tuple(dict(o) for o in raw.get("ops_files") or ()),
            cli=str(raw.get("cli") or ""),
            urls=tuple(dict(u) for u in raw.get("urls") or ()),
        )


@dataclass(frozen=True)
class Lock:
    spec_name: str
    target: Mapping[str, str]
    artifacts: tuple[Artifact, ...]
    sections: Mapping[str, Any] = field(default_factory=dict)
    tool: str = ""  # the tool that wrote the lock ("bosh-offline 0.1.0"); absent from older locks

    def by_kind(self, kind: str) -> list[Artifact]:
        return [a for a in self.artifacts if a.kind == kind]

    def find(self, kind: str, name: str) -> Artifact | None:
        return next((a for a in self.artifacts if a.kind == kind and a.name == name), None)

    def by_path(self, path: str) -> Artifact | None:
        return next((a for a in self.artifacts if a.path == path), None)

    def stemcell(self, variant: str) -> Artifact | None:
        """The stemcell of that variant (``light`` or ``regular``; an entry without one is regular)."""
        return next((a for a in self.by_kind("stemcell") if a.meta.get("variant", "regular") == variant), None)

    @property
    def debs(self) -> DebsSection:
        return DebsSection.from_json(self.sections.get("debs"))

    @property
    def gems(self) -> GemsSection:
        return GemsSection.from_json(self.sections.get("gems"))

    @property
    def ruby(self) -> RubySection:
        return RubySection.from_json(self.sections.get("ruby"))

    @property
    def runtime(self) -> RuntimeSection:
        return RuntimeSection.from_json(self.sections.get("runtime"))

    @property
    def director(self) -> DirectorSection:
        return DirectorSection.from_json(self.sections.get("director"))

    @property
    def total_size(self) -> int:
        return sum(a.size for a in self.artifacts)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": LOCK_FORMAT,
            "spec": self.spec_name,
            "target": dict(self.target),
            "artifacts": [a.to_json() for a in sorted(self.artifacts, key=lambda a: a.key)],
            "sections": dict(self.sections),
        } | ({"tool": self.tool} if self.tool else {})

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def assemble(spec_name: str, target: Mapping[str, str], parts: Iterable[LockPart]) -> Lock:
    """Join resolver outputs into a lock; two artifacts may not claim the same bundle path."""
    artifacts: dict[str, Artifact] = {}
    sections: dict[str, Any] = {}
    for part in parts:
        for a in part.artifacts:
            other = artifacts.get(a.path)
            if other is not None and other.sha256 != a.sha256:
                raise InputError(
                    f"two artifacts want the bundle path {a.path}: {other.kind} {other.name} {other.version}"
                    f" and {a.kind} {a.name} {a.version}"
                )
            artifacts[a.path] = a
        if part.section_name:
            sections[part.section_name] = dict(part.section)
    return Lock(spec_name, dict(target), tuple(sorted(artifacts.values(), key=lambda a: a.key)), sections)


def write_lock(lock: Lock, path: Path) -> None:
    """Write atomically: the old lock stays intact until the new one is complete."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(lock.dumps(), encoding="utf-8")
    os.replace(tmp, path)


def parse_lock(text: str, source: str = "bundle.lock") -> Lock:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}:{exc.lineno}: not a valid lock file: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{source}: not a valid lock file: nested too deeply") from None
    if not isinstance(data, dict) or data.get("format") != LOCK_FORMAT:
        writer = data.get("tool") if isinstance(data, dict) else None
        raise InputError(
            f"{source}: not a bundle lock of format {LOCK_FORMAT} (written by {writer or 'another tool or version'};"
            " lock it again on the connected side)"
        )
    raws = data.get("artifacts") or []
    if not isinstance(raws, list):
        raise InputError(f"{source}: artifacts is not a list")
    artifacts = []
    for i, raw in enumerate(raws):
        try:
            artifacts.append(
                Artifact(
                    kind=raw["kind"],
                    name=raw["name"],
                    version=raw["version"],
                    url=raw["url"],
                    size=raw["size"],
                    sha256=raw["sha256"],
                    trust=raw["trust"],
                    path=raw["path"],
                    meta=raw.get("meta") or {},
                )
            )
        except (KeyError, TypeError) as exc:
            raise InputError(f"{source}: artifacts[{i}]: missing or malformed field {exc}") from None
        except InputError as exc:
            raise InputError(f"{source}: artifacts[{i}]: {exc}") from None
    _check_artifacts(artifacts, source)
    if not isinstance(data.get("sections") or {}, dict) or not isinstance(data.get("target") or {}, dict):
        raise InputError(f"{source}: target and sections must be objects")
    tool = str(data.get("tool") or "")
    return Lock(str(data.get("spec", "")), data.get("target") or {}, tuple(artifacts), data.get("sections") or {}, tool)


def _check_artifacts(artifacts: list[Artifact], source: str) -> None:
    """Two artifacts on one payload path (one would overwrite the other when extracted), or a binary
    whose name is not a plain file name (it becomes ``/usr/local/bin/NAME``), make a lock unusable."""
    seen: dict[str, int] = {}
    for i, a in enumerate(artifacts):
        if a.path in seen:
            raise InputError(f"{source}: artifacts[{seen[a.path]}] and artifacts[{i}] both have the path {a.path!r}")
        seen[a.path] = i
        if a.kind == "binary" and (not _FILE_NAME.match(a.name) or a.name in (".", "..")):
            raise InputError(f"{source}: artifacts[{i}]: binary name {a.name!r} is not a plain file name")


_FILE_NAME = re.compile(r"^[A-Za-z0-9._+-]+$")
MAX_LOCK_BYTES = 64 << 20  # a lock of ten thousand artifacts is a few MB


def read_lock(path: Path | str) -> Lock:
    path = Path(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_LOCK_BYTES:
            raise InputError(f"{path}: {path.stat().st_size} bytes is too large for a lock (limit {MAX_LOCK_BYTES})")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such lock file (a bundle directory holds one as bundle.lock)") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text at byte {exc.start}: not a lock file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a lock file") from None
    return parse_lock(text, str(path))
