"""The Ruby the target builds (``ruby``: version, RubyGems, pinned source, configure options, prefix) and
the gems it installs (``gems``: compact index source, requirements, the target Ruby they must run on).

The Ruby source is a ``FileRef`` whose sha256 a person wrote down, or a file of a Debian source
package (``DebianSourceRef``) found through the signed ``Sources`` index.  Types beside their
parsers.  Imports only ``bundler.core.yamlfile`` and the spec's files and field checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bundler.core.yamlfile import Fields
from bundler.spec import fields
from bundler.spec.files import FileRef, file_ref

_GEM_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class DebianSourceRef:
    """A file of a Debian source package (e.g. the upstream tarball ``ruby3.1_3.1.2.orig.tar.xz``),
    found through the signed ``Sources`` index of the spec's apt sources."""

    package: str
    file: str


@dataclass(frozen=True)
class RubySpec:
    version: str
    rubygems: str
    source: FileRef | DebianSourceRef
    configure: tuple[str, ...] = ()
    prefix: str = "/usr/local"


@dataclass(frozen=True)
class GemSpec:
    source: str
    requirements: tuple[tuple[str, str], ...]  # (name, requirement such as "~> 1.3147.0" or ">= 0")
    ruby: str  # target Ruby version the closure must run on
    rubygems: str
    platforms: tuple[str, ...] = ("ruby", "x86_64-linux")
    where: tuple[tuple[str, str], ...] = ()  # (name, its place: "bundle.yml:31: gems.requirements.bosh_cli")


def _ruby_source(f: Fields, source_f: Fields | None) -> FileRef | DebianSourceRef | None:
    if source_f is not None and "debian_source" in source_f.value:
        package, file = source_f.string("debian_source"), source_f.string("file")
        source_f.done()
        return DebianSourceRef(package, file) if package and file else None
    if source_f is None:
        return None
    source = file_ref(source_f)
    source_f.done()
    if source is not None and source.sha256 is None:
        f.problems.add(f.path("source.sha256"), "is required: the Ruby source must be pinned")
    return source


def ruby(f: Fields | None) -> RubySpec | None:
    if f is None:
        return None
    version = f.string("version")
    rubygems = f.string("rubygems")
    source = _ruby_source(f, f.sub("source", required=True))
    configure = f.string_list("configure", [])
    prefix = f.string("prefix", "/usr/local")
    f.done()
    if not (version and rubygems and source):
        return None
    return RubySpec(version, rubygems, source, tuple(configure or ()), prefix)


def _requirements(f: Fields, reqs_f: Fields | None) -> list[tuple[str, str]]:
    requirements: list[tuple[str, str]] = []
    if reqs_f is None:
        return requirements
    for name, req in reqs_f.value.items():
        reqs_f.seen.add(name)
        if not isinstance(name, str) or not _GEM_NAME.match(name):
            f.problems.add(reqs_f.path(str(name)), "is not a gem name")
            continue
        if req is None:
            req = ">= 0"
        if not isinstance(req, (str, int, float)):
            f.problems.add(reqs_f.path(name), "expected a requirement such as '~> 1.3147.0'")
            continue
        requirements.append((name, str(req)))
    return requirements


def gems(f: Fields | None, ruby: RubySpec | None) -> GemSpec | None:
    if f is None:
        return None
    source = fields.url(f, "source", "https://rubygems.org")
    ruby_version = f.string("ruby", ruby.version if ruby else None)
    rubygems = f.string("rubygems", ruby.rubygems if ruby else None)
    platforms = f.string_list("platforms", ["ruby", "x86_64-linux"])
    reqs_f = f.sub("requirements", required=True)
    requirements = _requirements(f, reqs_f)
    where = tuple((name, f.problems.doc.where(reqs_f.path(name))) for name, _ in sorted(requirements)) if reqs_f else ()
    f.done()
    if ruby_version is None:
        f.problems.add(f.path("ruby"), "give the target Ruby version here or in a 'ruby' section")
    if rubygems is None:
        f.problems.add(f.path("rubygems"), "give the target RubyGems version here or in a 'ruby' section")
    if not (source and ruby_version and rubygems and requirements):
        return None
    return GemSpec(
        source.rstrip("/"), tuple(sorted(requirements)), ruby_version, rubygems, tuple(platforms or ()), where
    )
