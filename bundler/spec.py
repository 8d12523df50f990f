"""The bundle spec (``bundle.yml``): what the operator wants in an offline bundle.

``load_spec`` parses and validates a spec file into a frozen ``Spec``; every problem in the file is
reported at once, each with the file, line and key path, what is wrong and what is allowed.  The
spec says *what* is wanted; ``bosh-bundle lock`` resolves it into exact artifacts (``bundler.core.lock``).

Sections (all but ``target`` optional):

    name, target {os, release, codename, arch}, runtime {mode, python, python_version},
    apt {sources: system | [{url, suites, components, keyring, trusted, arch}]},
    debs {packages, base, with_recommends}, ruby {version, rubygems, source, configure, prefix},
    gems {source, ruby, rubygems, platforms, requirements}, releases [...], stemcells [...],
    binaries [...], bosh_io {url}, mirrors {UPSTREAM_PREFIX: MIRROR_PREFIX}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from bundler.core.errors import InputError
from bundler.core.yamlfile import Fields, Located, Problems, load_yaml_with_lines

ARCHES = ("amd64", "arm64", "i386", "armhf")
BASES = ("none", "minimal")
TRUST_PINNED = "pinned"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_URL = re.compile(r"^(https?|file)://\S+$")
_DEB_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?(=[A-Za-z0-9.+~:-]+)?$")
_GEM_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Target:
    os: str  # "ubuntu" or "debian"
    release: str  # "14.04", "12"
    codename: str  # "trusty", "bookworm"
    arch: str  # Debian architecture name


@dataclass(frozen=True)
class FileRef:
    """A file named by URL with the checksums a person wrote down (any may be absent)."""

    url: str
    sha256: str | None = None
    sha1: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class DebianSourceRef:
    """A file of a Debian source package (e.g. the upstream tarball ``ruby3.1_3.1.2.orig.tar.xz``),
    found through the signed ``Sources`` index of the spec's apt sources."""

    package: str
    file: str


@dataclass(frozen=True)
class AptSource:
    url: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    keyring: str | None = None  # path of a keyring for gpgv; None only with trusted
    trusted: bool = False  # accept a missing or bad signature (recorded in the lock)


@dataclass(frozen=True)
class AptSpec:
    system: bool  # sources come from this machine's apt configuration, read at lock time
    sources: tuple[AptSource, ...] = ()


@dataclass(frozen=True)
class DebSpec:
    packages: tuple[str, ...]  # "name" or "name=version"
    base: str = "minimal"  # none | minimal | path of a dpkg status file
    with_recommends: bool = False


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


@dataclass(frozen=True)
class RuntimeSpec:
    mode: str  # standalone | distro
    python: FileRef | None = None  # python-build-standalone tarball (standalone mode)
    python_version: str = "3.12"  # for `pip download --python-version`


@dataclass(frozen=True)
class Spec:
    path: Path
    name: str
    target: Target
    runtime: RuntimeSpec | None = None
    apt: AptSpec | None = None
    debs: DebSpec | None = None
    ruby: RubySpec | None = None
    gems: GemSpec | None = None
    releases: tuple[ReleaseSpec, ...] = ()
    stemcells: tuple[StemcellSpec, ...] = ()
    binaries: tuple[BinarySpec, ...] = ()
    bosh_io_url: str = "https://bosh.io"
    mirrors: tuple[tuple[str, str], ...] = ()  # (upstream prefix, mirror prefix), longest first


def with_mirrors(spec: Spec, mirrors: list[tuple[str, str]] | None) -> Spec:
    """The spec with extra mirrors (from ``--mirror``) taking precedence over its own."""
    if not mirrors:
        return spec
    merged = dict(spec.mirrors)
    merged.update(mirrors)
    return replace(spec, mirrors=tuple(sorted(merged.items(), key=lambda m: (-len(m[0]), m[0]))))


def load_spec(path: Path | str) -> Spec:
    """Read and validate a spec file; raises ``InputError`` listing every problem."""
    path = Path(path)
    doc = load_yaml_with_lines(path)
    return parse_spec(doc)


def parse_spec(doc: Located) -> Spec:
    problems = Problems(doc)
    top = Fields(problems, "", doc.data)
    name = top.string("name", "bundle")
    target = _target(top.sub("target", required=True))
    runtime = _runtime(top.sub("runtime"))
    apt = _apt(top, problems)
    debs = _debs(top.sub("debs"))
    ruby = _ruby(top.sub("ruby"))
    gems = _gems(top.sub("gems"), ruby)
    releases = top.items("releases", _release)
    stemcells = top.items("stemcells", _stemcell)
    binaries = top.items("binaries", _binary)
    bosh_io = top.sub("bosh_io")
    bosh_io_url = "https://bosh.io"
    if bosh_io is not None:
        bosh_io_url = _url(bosh_io, "url") or bosh_io_url
        bosh_io.done()
    mirrors = _mirrors(top, problems)
    top.done()

    if debs is not None and apt is None:
        problems.add("debs", "needs an 'apt' section saying where the packages come from")
    if debs is not None and debs.base not in BASES and not Path(debs.base).is_absolute():
        debs = DebSpec(debs.packages, str((doc.path.parent / debs.base).resolve()), debs.with_recommends)
    _unique(problems, "releases", [r.name for r in releases])
    _unique(problems, "binaries", [b.name for b in binaries])
    _unique(problems, "stemcells", [f"{s.name} {s.variant}" for s in stemcells])
    problems.raise_if_any()
    return Spec(
        path=doc.path,
        name=name,
        target=target,
        runtime=runtime,
        apt=apt,
        debs=debs,
        ruby=ruby,
        gems=gems,
        releases=tuple(releases),
        stemcells=tuple(stemcells),
        binaries=tuple(binaries),
        bosh_io_url=bosh_io_url.rstrip("/"),
        mirrors=mirrors,
    )


def _unique(problems: Problems, key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            problems.add(f"{key}[{i}]", f"{n!r} is listed twice")
        seen.add(n)


def _url(f: Fields, key: str, default: object = ...) -> str | None:
    value = f.string(key) if default is ... else f.string(key, default)
    if isinstance(value, str) and not _URL.match(value):
        f.problems.add(f.path(key), f"{value!r} is not an http://, https:// or file:// URL")
        return None
    return value


def _checksum(f: Fields, key: str, pattern: re.Pattern[str], what: str) -> str | None:
    value = f.string(key, None)
    if value is not None:
        value = value.lower()
        if not pattern.match(value):
            f.problems.add(f.path(key), f"expected {what} as lowercase hex, got {value!r}")
            return None
    return value


def _file_ref(f: Fields) -> FileRef | None:
    url = _url(f, "url")
    sha256 = _checksum(f, "sha256", _SHA256, "a sha256 (64 hex digits)")
    sha1 = _checksum(f, "sha1", _SHA1, "a sha1 (40 hex digits)")
    size = f.integer("size", None)
    return FileRef(url, sha256, sha1, size) if url else None


def _target(f: Fields | None) -> Target | None:
    if f is None:
        return None
    os_ = f.choice("os", ("ubuntu", "debian"))
    release = f.string("release")
    codename = f.string("codename")
    arch = f.choice("arch", ARCHES, "amd64")
    f.done()
    if None in (os_, release, codename, arch):
        return None
    return Target(os_, release, codename, arch)


def _runtime(f: Fields | None) -> RuntimeSpec | None:
    if f is None:
        return None
    mode = f.choice("mode", ("standalone", "distro"))
    python = None
    python_f = f.sub("python")
    if python_f is not None:
        python = _file_ref(python_f)
        python_f.done()
    version = f.string("python_version", "3.12")
    f.done()
    if mode == "standalone" and python is None:
        f.problems.add(f.path("python"), "standalone mode needs the python-build-standalone tarball (url, sha256)")
    return RuntimeSpec(mode, python, version) if mode else None


def _apt(top: Fields, problems: Problems) -> AptSpec | None:
    value = top.raw("apt", None)
    if value is None:
        return None
    f = Fields(problems, "apt", value)
    sources = f.raw("sources")
    f.done()
    if sources == "system":
        return AptSpec(system=True)
    if not isinstance(sources, list) or not sources:
        problems.add("apt.sources", "expected 'system' (this machine's apt configuration) or a list of sources")
        return None
    return AptSpec(system=False, sources=tuple(f.items("sources", _apt_source)))


def _apt_source(f: Fields) -> AptSource | None:
    url = _url(f, "url")
    suites = f.string_list("suites")
    components = f.string_list("components", ["main"])
    keyring = f.string("keyring", None)
    trusted = f.boolean("trusted", False)
    if keyring is None and not trusted:
        f.problems.add(f.path("keyring"), "is required unless 'trusted: true' (then signatures are not checked)")
    if not url or not suites:
        return None
    return AptSource(url.rstrip("/"), tuple(suites), tuple(components or ()), keyring, trusted)


def split_source_options(words: list[str]) -> tuple[dict[str, str], list[str]]:
    """``[k=v k2=v2] URL SUITE COMP…`` (the words after ``deb``) -> (options, the remaining words)."""
    words = list(words)
    options: dict[str, str] = {}
    if words and words[0].startswith("["):
        opts: list[str] = []
        while words:
            word = words.pop(0)
            opts.append(word)
            if word.endswith("]"):
                break
        for opt in " ".join(opts).strip("[] ").split():
            key, _, value = opt.partition("=")
            options[key.lower()] = value
    return options, words


def parse_one_line_source(line: str) -> AptSource:
    """Parse ``deb [signed-by=KEYRING trusted=yes] URL SUITE COMPONENT…`` (sources.list style)."""
    words = line.split()
    if not words or words[0] != "deb":
        raise InputError(f"apt source {line!r}: must start with 'deb'")
    options, words = split_source_options(words[1:])
    if len(words) < 2:
        raise InputError(f"apt source {line!r}: expected 'deb [signed-by=KEYRING] URL SUITE COMPONENT…'")
    url, suite, components = words[0], words[1], words[2:] or ["main"]
    if not _URL.match(url):
        raise InputError(f"apt source {line!r}: {url!r} is not an http://, https:// or file:// URL")
    trusted = options.get("trusted") == "yes"
    keyring = options.get("signed-by")
    if keyring is None and not trusted:
        raise InputError(f"apt source {line!r}: give [signed-by=KEYRING] or [trusted=yes]")
    return AptSource(url.rstrip("/"), (suite,), tuple(components), keyring, trusted)


def _debs(f: Fields | None) -> DebSpec | None:
    if f is None:
        return None
    packages = f.string_list("packages") or []
    for i, p in enumerate(packages):
        if not _DEB_NAME.match(p):
            f.problems.add(f"{f.path('packages')}[{i}]", f"{p!r} is not a package name or name=version")
    base = f.string("base", "minimal")
    with_recommends = f.boolean("with_recommends", False)
    f.done()
    if not packages:
        f.problems.add(f.path("packages"), "lists no packages")
    return DebSpec(tuple(packages), base, with_recommends)


def _ruby(f: Fields | None) -> RubySpec | None:
    if f is None:
        return None
    version = f.string("version")
    rubygems = f.string("rubygems")
    source_f = f.sub("source", required=True)
    source: FileRef | DebianSourceRef | None = None
    if source_f is not None and "debian_source" in source_f.value:
        package, file = source_f.string("debian_source"), source_f.string("file")
        source_f.done()
        source = DebianSourceRef(package, file) if package and file else None
    elif source_f is not None:
        source = _file_ref(source_f)
        source_f.done()
        if source is not None and source.sha256 is None:
            f.problems.add(f.path("source.sha256"), "is required: the Ruby source must be pinned")
    configure = f.string_list("configure", [])
    prefix = f.string("prefix", "/usr/local")
    f.done()
    if not (version and rubygems and source):
        return None
    return RubySpec(version, rubygems, source, tuple(configure or ()), prefix)


def _gems(f: Fields | None, ruby: RubySpec | None) -> GemSpec | None:
    if f is None:
        return None
    source = _url(f, "source", "https://rubygems.org")
    ruby_version = f.string("ruby", ruby.version if ruby else None)
    rubygems = f.string("rubygems", ruby.rubygems if ruby else None)
    platforms = f.string_list("platforms", ["ruby", "x86_64-linux"])
    reqs_f = f.sub("requirements", required=True)
    requirements: list[tuple[str, str]] = []
    if reqs_f is not None:
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
    f.done()
    if ruby_version is None:
        f.problems.add(f.path("ruby"), "give the target Ruby version here or in a 'ruby' section")
    if rubygems is None:
        f.problems.add(f.path("rubygems"), "give the target RubyGems version here or in a 'ruby' section")
    if not (source and ruby_version and rubygems and requirements):
        return None
    return GemSpec(source.rstrip("/"), tuple(sorted(requirements)), ruby_version, rubygems, tuple(platforms or ()))


def _bosh_io_pins(f: Fields) -> tuple[str | None, str | None, str | None]:
    url = _url(f, "url", None)
    sha1 = _checksum(f, "sha1", _SHA1, "a sha1 (40 hex digits)")
    sha256 = _checksum(f, "sha256", _SHA256, "a sha256 (64 hex digits)")
    if url and not (sha1 or sha256):
        f.problems.add(f.path("url"), "a pinned url needs sha1 or sha256")
    return url, sha1, sha256


def _release(f: Fields) -> ReleaseSpec | None:
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


def _stemcell(f: Fields) -> StemcellSpec | None:
    name = f.string("name")
    version = f.string("version", "latest")
    variant = f.choice("variant", ("regular", "light"), "regular")
    url, sha1, sha256 = _bosh_io_pins(f)
    if not name:
        return None
    return StemcellSpec(name, version, variant, url, sha1, sha256)


def _binary(f: Fields) -> BinarySpec | None:
    name = f.string("name")
    version = f.string("version")
    url = _url(f, "url")
    sha256 = _checksum(f, "sha256", _SHA256, "a sha256 (64 hex digits)")
    if not (name and version and url):
        return None
    return BinarySpec(name, version, url, sha256)


def _mirrors(top: Fields, problems: Problems) -> tuple[tuple[str, str], ...]:
    f = top.sub("mirrors")
    if f is None:
        return ()
    out = []
    for upstream, mirror in f.value.items():
        f.seen.add(upstream)
        if not isinstance(upstream, str) or not _URL.match(upstream):
            problems.add(f.path(str(upstream)), "a mirror key must be an upstream URL prefix")
        elif not isinstance(mirror, str) or not _URL.match(mirror):
            problems.add(f.path(upstream), "a mirror must be a URL prefix")
        else:
            out.append((upstream, mirror))
    return tuple(sorted(out, key=lambda m: (-len(m[0]), m[0])))
