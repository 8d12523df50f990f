"""A ``.gem``'s own specification (``metadata.gz``): its reader, and the check of a gem against its lock entry.

A ``.gem`` is an uncompressed tar holding ``metadata.gz``, the gzipped YAML of its
``Gem::Specification`` (Ruby object tags, dates, ``!binary`` strings: read as plain mappings and
text by ``_GemYamlLoader``).  ``read_gem_metadata`` gives a ``GemMetadata``: name, version,
platform, the runtime dependencies and ``required_ruby_version``.  ``check_artifact`` is the
contents check of ``bundler.core.contents`` for gems: every way the gem's metadata disagrees with
what the lock records (name, version, and, where the lock says them, platform, dependencies and
the Ruby requirement), each a ``Problem`` placed at the gem.

Imports only ``bundler.core`` (the offline side runs this check too).
"""

from __future__ import annotations

import gzip
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bundler.core.errors import BundleError, InputError
from bundler.core.gem.version import Requirement, Version
from bundler.core.lock import Artifact
from bundler.core.problems import Problem


class _GemYamlLoader(yaml.SafeLoader):
    """YAML of a gem's ``metadata.gz``: Ruby object tags read as plain mappings, dates as text."""


def _ruby_object(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_GemYamlLoader.add_multi_constructor("!ruby/", _ruby_object)
_GemYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
_GemYamlLoader.add_constructor("!binary", lambda loader, node: loader.construct_scalar(node))


@dataclass(frozen=True)
class GemMetadata:
    name: str
    version: str
    platform: str
    dependencies: tuple[tuple[str, Requirement], ...]  # runtime only
    required_ruby_version: Requirement | None


def _requirement(raw: Any) -> Requirement | None:
    if not isinstance(raw, dict):
        return None
    parts = []
    for op, ver in raw.get("requirements") or []:
        v = ver.get("version") if isinstance(ver, dict) else ver
        parts.append(f"{op} {v}")
    return Requirement.parse(*parts) if parts else None


def read_gem_metadata(path: Path) -> GemMetadata:
    """The specification inside a ``.gem`` (a tar holding ``metadata.gz``)."""
    try:
        with tarfile.open(path, "r:") as tar:
            member = tar.extractfile("metadata.gz")
            if member is None:
                raise BundleError(f"{path}: metadata.gz is not a file")
            raw = yaml.load(gzip.decompress(member.read()), Loader=_GemYamlLoader)  # noqa: S506 - safe subclass
    except KeyError:
        raise BundleError(f"{path}: not a gem (no metadata.gz inside)") from None
    except (tarfile.TarError, OSError, EOFError, yaml.YAMLError) as exc:
        raise BundleError(f"{path}: cannot read metadata.gz: {exc}") from None
    if not isinstance(raw, dict) or "name" not in raw:
        raise BundleError(f"{path}: metadata.gz is not a gem specification")
    version = raw.get("version")
    version = version.get("version") if isinstance(version, dict) else version
    deps = []
    for d in raw.get("dependencies") or []:
        if isinstance(d, dict) and str(d.get("type", ":runtime")).lstrip(":") == "runtime":
            deps.append((str(d["name"]), _requirement(d.get("requirement")) or Requirement.parse(">= 0")))
    return GemMetadata(
        name=str(raw["name"]),
        version=str(Version(str(version))),
        platform=str(raw.get("platform") or "ruby"),
        dependencies=tuple(sorted(deps, key=lambda d: d[0])),
        required_ruby_version=_requirement(raw.get("required_ruby_version")),
    )


def _constraint_set(req: Requirement | None) -> set[tuple[str, str]]:
    if req is None or req.none:
        return set()
    return {(op, str(v)) for op, v in req.constraints}


def check_artifact(path: Path, artifact: Artifact) -> list[Problem]:
    """Every way the .gem's own metadata disagrees with its lock entry (empty when none)."""
    where = f"{artifact.path} (metadata.gz)"
    try:
        meta = read_gem_metadata(Path(path))
    except (BundleError, InputError) as exc:
        return [Problem(artifact.path, str(exc))]
    problems = []
    if meta.name != artifact.name:
        problems.append(Problem(where, f"name is {meta.name!r}, the lock says {artifact.name!r}"))
    if meta.version != str(Version(artifact.version)):
        problems.append(Problem(where, f"version is {meta.version}, the lock says {artifact.version}"))
    # the lock's meta is compared where it says something (our resolver always writes all three;
    # a lock written by hand or another tool may carry only name and version)
    platform = artifact.meta.get("platform")
    if platform is not None and meta.platform != platform:
        problems.append(Problem(where, f"platform is {meta.platform}, the lock says {platform}"))
    try:
        if "dependencies" in artifact.meta:
            problems += _dependency_problems(where, artifact.meta["dependencies"], meta)
        if "required_ruby_version" in artifact.meta:
            want_ruby = _constraint_set(Requirement.parse(artifact.meta["required_ruby_version"]))
        else:
            want_ruby = None
    except (InputError, TypeError, ValueError) as exc:
        return [*problems, Problem(artifact.path, f"the lock's meta for this gem is malformed: {exc}")]
    if want_ruby is not None:
        have_ruby = _constraint_set(meta.required_ruby_version)
        if want_ruby != have_ruby:
            problems.append(
                Problem(where, f"required_ruby_version is {_show(have_ruby)}, the lock says {_show(want_ruby)}")
            )
    return problems


def _dependency_problems(where: str, locked_deps: list, meta: GemMetadata) -> list[Problem]:
    problems = []
    locked = {n: _constraint_set(Requirement.parse(r)) for n, r in locked_deps}
    actual = {n: _constraint_set(r) for n, r in meta.dependencies}
    for name in sorted(set(locked) | set(actual)):
        if name not in actual:
            problems.append(Problem(where, f"does not depend on {name}, the lock says it does"))
        elif name not in locked:
            problems.append(Problem(where, f"depends on {name} ({_show(actual[name])}), the lock does not say so"))
        elif locked[name] != actual[name]:
            problems.append(
                Problem(where, f"requires {name} {_show(actual[name])}, the lock says {name} {_show(locked[name])}")
            )
    return problems


def _show(constraints: set[tuple[str, str]]) -> str:
    return ", ".join(f"{op} {v}" for op, v in sorted(constraints)) or ">= 0"
