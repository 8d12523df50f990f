"""The Ruby source tarball: the spec's ``ruby`` section -> one ``ruby-source`` lock entry.

Two ways to name it:

* a URL with the sha256 a person wrote down (``FileRef``; the guide's ruby-2.1.6.tar.gz): trust
  ``pinned``; the size comes from the spec or, when absent, from a HEAD request;
* a file of a Debian source package (``DebianSourceRef``, e.g. ``debian_source: ruby3.1, file:
  ruby3.1_3.1.2.orig.tar.xz``): looked up in the ``Sources`` index of the spec's apt sources (or
  this machine's, with ``apt: {sources: system}`` or no apt section), through the signed chain
  InRelease -> Release -> Sources (``bundler.apt.client``); the sha256 and size are the ones
  ``Checksums-Sha256`` gives, the trust that of the Release.

The entry's path is ``ruby/<file name>``; ``meta`` and the lock's ``ruby`` section carry the
version, configure options and prefix the installer builds with.

Imports ``bundler.core``, ``bundler.net.http``, the spec and (for Debian sources) ``bundler.apt``.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from bundler.core.errors import FetchError, InputError, ResolutionError
from bundler.core.lock import Artifact, LockPart
from bundler.net.http import Http
from bundler.spec import AptSource, DebianSourceRef, FileRef

log = logging.getLogger(__name__)

KIND = "ruby-source"


def _head_size(http: Http, url: str) -> int:
    status, headers = http.head(url)
    length = headers.get("Content-Length", "")
    if status != 200 or not length.isdigit():
        raise FetchError(f"HEAD {url}: HTTP {status}, no size; give 'size' in the spec's ruby.source")
    return int(length)


def _from_url(ref: FileRef, http: Http) -> tuple[str, str, int, str, str]:
    name = PurePosixPath(unquote(urlsplit(ref.url).path)).name
    if not name or ref.sha256 is None:
        raise InputError(f"ruby.source: {ref.url!r} needs a file name and a sha256")
    size = ref.size if ref.size is not None else _head_size(http, ref.url)
    return name, ref.url, size, ref.sha256, "pinned"


def parse_checksums(value: str) -> dict[str, tuple[str, int]]:
    """A ``Checksums-Sha256`` field: file name -> (sha256, size)."""
    out = {}
    for line in value.split("\n"):
        words = line.split()
        if len(words) == 3 and words[1].isdigit():
            out[words[2]] = (words[0], int(words[1]))
    return out


def apt_sources(spec: Any) -> list[AptSource]:
    from bundler.apt.client import AptClient

    if spec.apt is None or spec.apt.system:
        return AptClient.system_sources()
    return list(spec.apt.sources)


def find_in_sources(ref: DebianSourceRef, sources: list[AptSource], http: Http, cache: Any) -> tuple:
    """(url, size, sha256, trust) of ``ref.file`` from the first signed Sources index listing it."""
    from bundler.apt.client import AptClient

    client = AptClient(http, cache)
    looked = []
    for source in sources:
        for suite in source.suites:
            release = client.release(source, suite)
            for component in source.components:
                path = f"{component}/source/Sources"
                if not any(release.entry(path + s) for s in (".xz", ".gz", "")):
                    looked.append(f"{release.dists_url} {component} (no Sources index)")
                    continue
                index = client.index(release, path)
                looked.append(f"{release.dists_url}/{path}")
                for stanza in index.get(ref.package):
                    files = parse_checksums(stanza.get("Checksums-Sha256", ""))
                    if ref.file in files:
                        sha256, size = files[ref.file]
                        directory = stanza.get("Directory", "").strip("/")
                        if not directory:
                            raise ResolutionError(f"{index.url}: source {ref.package} has no Directory field")
                        return release.url_of(f"{directory}/{ref.file}"), size, sha256, release.trust
    raise ResolutionError(
        f"ruby.source: no source package {ref.package!r} with file {ref.file!r} in "
        + ("; ".join(looked) or "any apt source (none configured)")
    )


def resolve(spec: Any, ctx: Any) -> LockPart:
    """The spec's ``ruby`` section -> the source tarball's lock entry and the ``ruby`` section."""
    rs = spec.ruby
    if isinstance(rs.source, FileRef):
        name, url, size, sha256, trust = _from_url(rs.source, ctx.http)
    else:
        url, size, sha256, trust = find_in_sources(rs.source, apt_sources(spec), ctx.http, ctx.cache)
        name = rs.source.file
    settings = {"version": rs.version, "configure": list(rs.configure), "prefix": rs.prefix}
    artifact = Artifact(KIND, "ruby", rs.version, url, size, sha256, trust, f"ruby/{name}", dict(settings))
    section = {**settings, "rubygems": rs.rubygems, "source": artifact.path}
    return LockPart((artifact,), "ruby", section)
