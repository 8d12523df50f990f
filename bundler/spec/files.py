"""Files the spec names by URL: a plain ``FileRef``, BOSH releases and stemcells, single-file binaries.

Each type sits beside its parser (``file_ref``, ``release``, ``stemcell``, ``binary``: one list item
of the section in, the type or ``None`` out, problems recorded).  A release or stemcell is either
resolved through bosh.io (``repo``/``name`` and ``version``) or pinned (``url`` with ``sha1`` or
``sha256``); a binary without ``sha256`` is trusted on first download.  Imports only
``bundler.core.yamlfile`` and the spec's field checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bundler.core.yamlfile import Fields
from bundler.spec import fields


@dataclass(frozen=True)
class FileRef:
    """A file named by URL with the checksums a person wrote down (any may be absent)."""

    url: str
    sha256: str | None = None
    sha1: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class ReleaseSpec:
    name: str
    version: str  # exact version or "latest"
    repo: str | None = None  # github.com/ORG/REPO, for bosh.io
    url: str | None = None
    sha1: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class StemcellSpec:
    name: str
    version: str  # exact version or "latest"
    variant: str = "regular"  # regular (heavy) | light
    url: str | None = None
    sha1: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class BinarySpec:
    name: str
    version: str
    url: str
    sha256: str | None = None  # None: trust on first download, recorded and warned about


def file_ref(f: Fields) -> FileRef | None:
    url = fields.url(f, "url")
    sha256 = fields.sha256(f)
    sha1 = fields.sha1(f)
    size = f.integer("size", None)
    return FileRef(url, sha256, sha1, size) if url else None


def _bosh_io_pins(f: Fields) -> tuple[str | None, str | None, str | None]:
    url = fields.url(f, "url", None)
    sha1 = fields.sha1(f)
    sha256 = fields.sha256(f)
    if url and not (sha1 or sha256):
        f.problems.add(f.path("url"), "a pinned url needs sha1 or sha256")
    return url, sha1, sha256


def release(f: Fields) -> ReleaseSpec | None:
    name = f.string("name")
    version = f.string("version", "latest")
    repo = f.string("repo", None)
    url, sha1, sha256 = _bosh_io_pins(f)
    if repo is not None and not re.match(r"^github\.com/[^/\s]+/[^/\s]+$", repo):
        f.problems.add(f.path("repo"), f"{repo!r} is not of the form github.com/ORG/REPO")
    if repo is None and url is None:
        f.problems.add(f.path("repo"), "give 'repo' (resolved through bosh.io) or a pinned 'url'")
    if url is None and version == "latest" and sha1:
        f.problems.add(f.path("sha1"), "a checksum pins one version: give 'version' too")
    if not name:
        return None
    return ReleaseSpec(name, version, repo, url, sha1, sha256)


def stemcell(f: Fields) -> StemcellSpec | None:
    name = f.string("name")
    version = f.string("version", "latest")
    variant = f.choice("variant", ("regular", "light"), "regular")
    url, sha1, sha256 = _bosh_io_pins(f)
    if not name:
        return None
    return StemcellSpec(name, version, variant, url, sha1, sha256)


def binary(f: Fields) -> BinarySpec | None:
    name = f.string("name")
    version = f.string("version")
    url = fields.url(f, "url")
    sha256 = fields.sha256(f)
    if not (name and version and url):
        return None
    return BinarySpec(name, version, url, sha256)
