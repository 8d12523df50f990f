"""Ruby gems: the compact index client, the resolver that honours the target's Ruby, and the
check of a downloaded ``.gem`` against its lock entry.

How the pieces relate (after pip's resolvelib provider): ``CompactIndex`` reads ``/versions`` and
``/info/NAME`` from the gem source (info files are kept under the index cache and reused while
their MD5 in ``/versions`` is unchanged) and parses each info line into an ``IndexEntry``.  The
resolver works on *requirements* (``GemRequirement``: a gem name, a ``Gem::Requirement`` and who
asked) and *candidates* (``GemCandidate``: one release for one platform).  The target's Ruby and
RubyGems are pseudo-gems named ``<ruby>`` and ``<rubygems>`` with a single candidate each (the
target versions); every candidate lists its ``ruby:``/``rubygems:`` requirements as dependencies,
first, so a release that needs a newer Ruby is rejected as soon as it is tried and the next older
one is taken, exactly like pip's ``Requires-Python``.  ``GemProvider`` only answers resolvelib's
questions; candidates come newest first (a platform-specific build before the ``ruby`` one of the
same version), prereleases only when a requirement names one (``Gem::Dependency#match?``).  When
no set of versions fits, ``explain`` turns resolvelib's causes into one message naming each
requirement that cannot hold together and who asked for it.

Lock entries: kind ``gem``, path ``gems/NAME-VERSION[-PLATFORM].gem``, sha256 from the info line
(trust ``compact-index``), size from a HEAD of the gem URL (remembered per sha256), and in ``meta``
the platform, the runtime dependency edges and ``required_ruby_version``.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import logging
import re
import tarfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from bundler.core.errors import BundleError, FetchError, InputError, ResolutionError
from bundler.core.gem.version import Requirement, Version
from bundler.core.lock import Artifact, LockPart
from bundler.net.cache import index_dir
from bundler.net.http import TIMEOUT, Http

log = logging.getLogger(__name__)

RUBY = "<ruby>"
RUBYGEMS = "<rubygems>"
TRUST = "compact-index"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
MAX_ROUNDS = 20000


# ---------------------------------------------------------------------------------------------
# The compact index


@dataclass(frozen=True)
class IndexEntry:
    """One line of ``/info/NAME``: a release for one platform."""

    name: str
    version: Version
    platform: str
    dependencies: tuple[tuple[str, Requirement], ...]
    sha256: str
    ruby: Requirement | None = None
    rubygems: Requirement | None = None

    @property
    def full_name(self) -> str:
        return f"{self.name}-{self.version}" + ("" if self.platform == "ruby" else f"-{self.platform}")

    @property
    def filename(self) -> str:
        return f"{self.full_name}.gem"


def parse_info_line(name: str, line: str, where: str) -> IndexEntry:
    """Parse ``VERSION[-PLATFORM] DEP:REQ&REQ,…|checksum:SHA256[,ruby:REQ][,rubygems:REQ]``."""

    def bad(why: str) -> ResolutionError:
        return ResolutionError(f"{where}: malformed compact index line for gem {name!r} ({why}): {line!r}")

    head, sep, rest = line.partition(" ")
    if not sep:
        raise bad("no space after the version")
    number, _, platform = head.partition("-")
    deps_text, sep, reqs_text = rest.partition("|")
    if not sep:
        raise bad("no '|' before the checksum")
    try:
        version = Version(number)
        deps = []
        for item in filter(None, deps_text.split(",")):
            dep_name, colon, req = item.partition(":")
            if not colon or not _NAME.match(dep_name):
                raise bad(f"dependency {item!r} is not NAME:REQUIREMENT")
            deps.append((dep_name, Requirement.parse(req)))
        m = re.match(r"\Achecksum:([^,]+)(?:,|\Z)", reqs_text)
        if m is None or not _SHA256.match(m.group(1)):
            raise bad("no sha256 checksum")
        tail = reqs_text[m.end() :]
        rubygems = ruby = None
        gm = re.search(r"(?:\A|,)rubygems:(.+)\Z", tail)
        if gm:
            rubygems = Requirement.parse(gm.group(1))
            tail = tail[: gm.start()]
        rm = re.match(r"\Aruby:(.+)\Z", tail)
        if rm:
            ruby = Requirement.parse(rm.group(1))
        elif tail:
            raise bad(f"unexpected {tail!r} after the checksum")
    except InputError as exc:
        raise bad(str(exc)) from None
    return IndexEntry(name, version, platform or "ruby", tuple(deps), m.group(1), ruby, rubygems)


def _whole_file_sha256(headers: Mapping[str, str]) -> bytes | None:
    """The sha256 a server states for the whole representation (RFC 9530 ``Repr-Digest:
    sha-256=:B64:`` or the older ``Digest: sha-256=B64``), if any."""
    for header in ("Repr-Digest", "Digest"):
        for item in (headers.get(header) or "").split(","):
            algo, _, value = item.strip().partition("=")
            if algo.lower() == "sha-256" and value:
                try:
                    return base64.b64decode(value.strip(":"), validate=True)
                except (binascii.Error, ValueError):
                    return None
    return None


def parse_versions(text: str, where: str) -> dict[str, str]:
    """``/versions``: gem name -> MD5 of its current info file (the last line for a name wins)."""
    out: dict[str, str] = {}
    body = text.split("\n---\n", 1)[1] if "\n---\n" in text else text.removeprefix("---\n")
    for n, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(" ")
        if len(parts) != 3:
            raise ResolutionError(f"{where}: malformed line after the header, entry {n}: {line!r}")
        out[parts[0]] = parts[2]
    return out


@dataclass
class CompactIndex:
    """A compact-index gem source, read through ``http`` and cached under ``cache_dir``."""

    http: Http
    source: str
    cache_dir: Path | None = None
    _versions: dict[str, str] | None = None
    _infos: dict[str, list[IndexEntry]] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)  # URLs actually downloaded (for tests and bench)

    def __post_init__(self) -> None:
        self.source = self.source.rstrip("/")
        if self.cache_dir is not None:
            key = hashlib.sha256(self.source.encode()).hexdigest()[:16]
            host = re.sub(r"[^A-Za-z0-9.-]+", "_", self.source.split("://", 1)[-1])[:60]
            self.cache_dir = Path(self.cache_dir) / f"{host}-{key}"
            (self.cache_dir / "info").mkdir(parents=True, exist_ok=True)

    def gem_url(self, entry: IndexEntry) -> str:
        return f"{self.source}/gems/{entry.filename}"

    def versions(self) -> dict[str, str]:
        if self._versions is None:
            url = f"{self.source}/versions"
            data = self._versions_bytes(url)
            self._versions = parse_versions(data.decode("utf-8", "replace"), url)
        return self._versions

    def _versions_bytes(self, url: str) -> bytes:
        """``/versions`` only grows between compactions (rubygems.org's is ~20 MB), so, as Bundler
        does, ask only for what follows the cached copy: ``Range: bytes=N-1-``, where the first byte
        returned must equal the last byte we have (a newline).  When the server states the whole
        file's sha256 (``Repr-Digest``/``Digest``), the joined file must match it; anything odd
        (no 206, a shrunken file, a mismatch) falls back to one full download."""
        cached = self.cache_dir / "versions" if self.cache_dir is not None else None
        old = cached.read_bytes() if cached is not None and cached.is_file() else b""
        data = None
        if old:
            data = self._versions_tail(url, old)
        if data is None:
            data = self.http.get_bytes(url)
            self.fetched.append(url)
        if cached is not None and data != old:
            tmp = cached.with_name("versions.tmp")
            tmp.write_bytes(data)
            tmp.replace(cached)
        return data

    def _versions_tail(self, url: str, old: bytes) -> bytes | None:
        start = len(old) - 1
        try:
            resp = self.http.session.get(self.http.url(url), headers={"Range": f"bytes={start}-"}, timeout=TIMEOUT)
        except Exception as exc:  # requests' errors: retried by the full download
            log.debug("GET %s from byte %d: %s", url, start, exc)
            return None
        if resp.status_code != 206 or not resp.content.startswith(old[-1:]):
            log.debug("GET %s from byte %d: HTTP %d; downloading it whole", url, start, resp.status_code)
            return None
        self.fetched.append(f"{url} (from byte {start})")
        data = old + resp.content[1:]
        expected = _whole_file_sha256(resp.headers)
        if expected is not None and hashlib.sha256(data).digest() != expected:
            log.debug("%s: the joined file does not match the server's digest; downloading it whole", url)
            return None
        return data

    def exists(self, name: str) -> bool:
        return name in self.versions()

    def prefetch(self, names: Iterable[str], workers: int = 8) -> None:
        """Fetch the info files of ``names`` not read yet, in parallel (as Bundler does): a resolver
        asks for a candidate's dependencies one at a time, and each is a round trip."""
        missing = sorted({n for n in names if n not in self._infos and n in self.versions()})
        if len(missing) > 1:
            with ThreadPoolExecutor(min(workers, len(missing))) as pool:
                list(pool.map(self.info, missing))

    def info(self, name: str) -> list[IndexEntry]:
        """Every release of ``name`` (empty when the source has no such gem)."""
        if name in self._infos:
            return self._infos[name]
        md5 = self.versions().get(name)
        if md5 is None:
            self._infos[name] = []
            return []
        url = f"{self.source}/info/{name}"
        cached = self.cache_dir / "info" / name if self.cache_dir is not None else None
        text = None
        if cached is not None and cached.is_file():
            data = cached.read_bytes()
            if hashlib.md5(data).hexdigest() == md5:
                text = data.decode("utf-8")
        if text is None:
            data = self.http.get_bytes(url)
            self.fetched.append(url)
            if hashlib.md5(data).hexdigest() != md5:
                log.warning("%s: MD5 differs from %s/versions (the index is being updated?)", url, self.source)
            elif cached is not None:
                tmp = cached.with_name(cached.name + ".tmp")
                tmp.write_bytes(data)
                tmp.replace(cached)
            text = data.decode("utf-8")
        entries = []
        lines = text.split("\n")
        start = lines.index("---") + 1 if "---" in lines else 0
        for n, line in enumerate(lines[start:], start + 1):
            if line.strip():
                entries.append(parse_info_line(name, line, f"{url} line {n}"))
        self._infos[name] = entries
        return entries


# ---------------------------------------------------------------------------------------------
# Requirements, candidates and the provider


@dataclass(frozen=True)
class Target:
    """What the gems must run on: the target's Ruby and RubyGems, and the platforms it accepts."""

    ruby: Version
    rubygems: Version | None  # None: the gems' rubygems requirements are not checked
    platforms: tuple[str, ...] = ("ruby", "x86_64-linux")


@dataclass(frozen=True)
class GemRequirement:
    name: str  # a gem name, or RUBY / RUBYGEMS
    requirement: Requirement
    asked_by: str  # "the request" or "NAME VERSION[-PLATFORM]"

    def __str__(self) -> str:
        shown = {RUBY: "ruby", RUBYGEMS: "rubygems"}.get(self.name, self.name)
        return f"{shown} {self.requirement}"


@dataclass(frozen=True)
class GemCandidate:
    entry: IndexEntry | None  # None for the <ruby>/<rubygems> pseudo-candidates
    name: str
    version: Version

    @property
    def platform(self) -> str:
        return self.entry.platform if self.entry else "ruby"

    def __str__(self) -> str:
        return self.entry.full_name if self.entry else f"{self.name.strip('<>')} {self.version}"


def platform_matches(platform: str, accepted: Sequence[str]) -> bool:
    """``Gem::Platform#===`` for the names we meet: same cpu (or universal) and os; an os version
    (``linux-gnu``, ``darwin-19``) only has to agree when both sides give one."""
    if platform in accepted:
        return True
    parts = platform.split("-")
    if len(parts) < 2:
        return False
    for want in accepted:
        w = want.split("-")
        if len(w) < 2:
            continue
        cpu_ok = parts[0] == w[0] or "universal" in (parts[0], w[0])
        ver_ok = len(parts) == 2 or len(w) == 2 or parts[2:] == w[2:]
        if cpu_ok and parts[1] == w[1] and ver_ok:
            return True
    return False


class GemProvider(AbstractProvider):
    """Answers resolvelib's questions from a ``CompactIndex`` for one ``Target``."""

    def __init__(self, index: CompactIndex, target: Target) -> None:
        self.index = index
        self.target = target
        self._pseudo = {
            RUBY: GemCandidate(None, RUBY, target.ruby),
            RUBYGEMS: GemCandidate(None, RUBYGEMS, target.rubygems or Version("0")),
        }
        self._candidates: dict[str, list[GemCandidate]] = {}

    def identify(self, requirement_or_candidate: GemRequirement | GemCandidate) -> str:
        return requirement_or_candidate.name

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, GemCandidate],
        candidates: Mapping[str, Iterator[GemCandidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> tuple[bool, bool, bool, str]:
        # (pseudo-gems first: they fail fast and explain themselves; then exact pins; then the gems
        #  that caused the last backtrack; then by name, so the result does not depend on order)
        pinned = any(
            op == "=" for info in information[identifier] for op, _ in info.requirement.requirement.constraints
        )
        causes = {c.requirement.name for c in backtrack_causes} | {c.parent.name for c in backtrack_causes if c.parent}
        return (identifier not in self._pseudo, not pinned, identifier not in causes, identifier)

    def _all_candidates(self, name: str) -> list[GemCandidate]:
        if name not in self._candidates:
            accepted = self.target.platforms
            listed = [p for p in accepted if p != "ruby"]

            def platform_rank(e: IndexEntry) -> tuple[int, int]:
                # a build for a listed platform (in the spec's order), then other matching builds, then ruby
                if e.platform == "ruby":
                    return (2, 0)
                return (0, listed.index(e.platform)) if e.platform in listed else (1, 0)

            entries = [e for e in self.index.info(name) if platform_matches(e.platform, accepted)]
            entries.sort(key=platform_rank)
            entries.sort(key=lambda e: e.version, reverse=True)  # stable: newest first, platform order kept
            self._candidates[name] = [GemCandidate(e, name, e.version) for e in entries]
        return self._candidates[name]

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[GemRequirement]],
        incompatibilities: Mapping[str, Iterator[GemCandidate]],
    ) -> list[GemCandidate]:
        reqs = [r.requirement for r in requirements[identifier]]
        bad = {(c.version.text, c.platform) for c in incompatibilities[identifier]}
        pool = [self._pseudo[identifier]] if identifier in self._pseudo else self._all_candidates(identifier)
        allow_pre = any(r.prerelease for r in reqs) or identifier in self._pseudo
        return [
            c
            for c in pool
            if (c.version.text, c.platform) not in bad
            and (allow_pre or not c.version.prerelease)
            and all(r.satisfied_by(c.version) for r in reqs)
        ]

    def is_satisfied_by(self, requirement: GemRequirement, candidate: GemCandidate) -> bool:
        return requirement.name == candidate.name and requirement.requirement.satisfied_by(candidate.version)

    def get_dependencies(self, candidate: GemCandidate) -> list[GemRequirement]:
        e = candidate.entry
        if e is None:
            return []
        asked_by = str(candidate)
        deps = []
        if e.ruby is not None:
            deps.append(GemRequirement(RUBY, e.ruby, asked_by))
        if e.rubygems is not None and self.target.rubygems is not None:
            deps.append(GemRequirement(RUBYGEMS, e.rubygems, asked_by))
        deps += [GemRequirement(n, r, asked_by) for n, r in e.dependencies]
        runs_here = (e.ruby is None or e.ruby.satisfied_by(self.target.ruby)) and (
            e.rubygems is None or self.target.rubygems is None or e.rubygems.satisfied_by(self.target.rubygems)
        )
        if runs_here:  # resolvelib will ask for each of these next
            self.index.prefetch(n for n, _ in e.dependencies)
        return deps


# ---------------------------------------------------------------------------------------------
# Resolving


@dataclass(frozen=True)
class Resolved:
    """The chosen release of each gem and the edges between them."""

    gems: tuple[IndexEntry, ...]  # sorted by name
    install_order: tuple[str, ...]  # names, dependencies before the gems that need them


def explain(causes: Iterable[Any], index: CompactIndex, target: Target) -> str:
    """One message naming every requirement that cannot hold together, and who asked for it."""
    by_name: dict[str, list[GemRequirement]] = {}
    for info in causes:
        req = info.requirement
        if req not in by_name.setdefault(req.name, []):
            by_name[req.name].append(req)
    sentences = []
    for name, reqs in sorted(by_name.items(), key=lambda kv: (kv[0] not in (RUBY, RUBYGEMS), kv[0])):
        asked = "; ".join(f"{r} (required by {r.asked_by})" for r in reqs)
        if name in (RUBY, RUBYGEMS):
            what, have = ("Ruby", target.ruby) if name == RUBY else ("RubyGems", target.rubygems)
            sentences.append(f"the target's {what} is {have}, but: {asked}")
        elif not index.exists(name):
            sentences.append(f"gem {name!r} does not exist on {index.source} ({asked})")
        elif len(reqs) == 1:
            versions = ", ".join(e.full_name.removeprefix(f"{name}-") for e in index.info(name)[-8:])
            platforms = ", ".join(target.platforms)
            sentences.append(
                f"no release of {name} fits {asked}; the source has {versions} (platforms accepted: {platforms})"
            )
        else:
            sentences.append(f"these cannot all hold: {asked}")
    return "cannot resolve the gems: " + " | ".join(sentences)


def resolve_gems(
    index: CompactIndex, requests: Iterable[tuple[str, str]], target: Target, reporter: BaseReporter | None = None
) -> Resolved:
    """Resolve ``(name, requirement)`` requests; raises ``ResolutionError`` explaining a conflict."""
    roots = []
    for name, text in requests:
        if not _NAME.match(name):
            raise InputError(f"{name!r} is not a gem name")
        try:
            requirement = Requirement.parse(text or ">= 0")
        except InputError as exc:
            raise InputError(f"gem request {name}:{text}: {exc}") from None
        roots.append(GemRequirement(name, requirement, "the request"))
    for r in roots:
        if not index.exists(r.name):
            raise ResolutionError(f"gem {r.name!r} does not exist on {index.source} (requested as '{r}')")
    resolver = Resolver(GemProvider(index, target), reporter or BaseReporter())
    try:
        result = resolver.resolve(roots, max_rounds=MAX_ROUNDS)
    except ResolutionImpossible as exc:
        raise ResolutionError(explain(exc.causes, index, target)) from None
    except ResolutionTooDeep as exc:
        raise ResolutionError(f"gave up resolving the gems after {exc.round_count} rounds") from None
    chosen = {n: c.entry for n, c in result.mapping.items() if c.entry is not None}
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep, _ in chosen[name].dependencies:
            visit(dep)
        order.append(name)

    for name in sorted(chosen):
        visit(name)
    return Resolved(tuple(chosen[n] for n in sorted(chosen)), tuple(order))


def _gem_size(http: Http, url: str, sha256: str, cache_dir: Path | None) -> int:
    """The size of a .gem (the compact index does not give it): a HEAD request, remembered."""
    remembered = cache_dir / "sizes" / sha256 if cache_dir is not None else None
    if remembered is not None and remembered.is_file():
        return int(remembered.read_text())
    real = http.url(url)
    try:
        resp = http.session.head(real, allow_redirects=True, timeout=TIMEOUT)
    except Exception as exc:  # requests' errors; the message names the URL
        raise FetchError(f"HEAD {url}: {type(exc).__name__}: {exc}") from None
    length = resp.headers.get("Content-Length")
    if resp.status_code != 200 or length is None or not length.isdigit():
        raise FetchError(f"HEAD {url}: HTTP {resp.status_code}, no size (is the gem on the source?)")
    if remembered is not None:
        remembered.parent.mkdir(parents=True, exist_ok=True)
        remembered.write_text(length)
    return int(length)


def lock_artifacts(index: CompactIndex, resolved: Resolved) -> list[Artifact]:
    cache = index.cache_dir
    with ThreadPoolExecutor(8) as pool:
        sizes = list(pool.map(lambda e: _gem_size(index.http, index.gem_url(e), e.sha256, cache), resolved.gems))
    artifacts = []
    for e, size in zip(resolved.gems, sizes, strict=True):
        meta = {
            "platform": e.platform,
            "dependencies": [[n, str(r)] for n, r in sorted(e.dependencies, key=lambda d: d[0])],
            "required_ruby_version": str(e.ruby) if e.ruby else ">= 0",
            "required_rubygems_version": str(e.rubygems) if e.rubygems else ">= 0",
        }
        artifacts.append(
            Artifact("gem", e.name, str(e.version), index.gem_url(e), size, e.sha256, TRUST, f"gems/{e.filename}", meta)
        )
    return artifacts


def resolve(spec: Any, ctx: Any) -> LockPart:
    """The ``gems`` section of the spec -> lock entries for every gem of the closure."""
    gs = spec.gems
    index = CompactIndex(ctx.http, gs.source, index_dir(ctx.cache, "gems"))
    target = Target(Version(gs.ruby), Version(gs.rubygems), tuple(gs.platforms))
    resolved = resolve_gems(index, gs.requirements, target)
    section = {
        "source": index.source,
        "ruby": gs.ruby,
        "rubygems": gs.rubygems,
        "platforms": list(gs.platforms),
        "requested": sorted(n for n, _ in gs.requirements),
        "install_order": [f"gems/{e.filename}" for n in resolved.install_order for e in resolved.gems if e.name == n],
    }
    return LockPart(tuple(lock_artifacts(index, resolved)), "gems", section)


# ---------------------------------------------------------------------------------------------
# Checking a downloaded .gem against its lock entry


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


def check_artifact(path: Path, artifact: Artifact) -> list[str]:
    """Every way the .gem's own metadata disagrees with its lock entry (empty when none)."""
    where = f"{artifact.path} (metadata.gz)"
    try:
        meta = read_gem_metadata(Path(path))
    except (BundleError, InputError) as exc:
        return [f"{artifact.path}: {exc}"]
    problems = []
    if meta.name != artifact.name:
        problems.append(f"{where}: name is {meta.name!r}, the lock says {artifact.name!r}")
    if meta.version != str(Version(artifact.version)):
        problems.append(f"{where}: version is {meta.version}, the lock says {artifact.version}")
    # the lock's meta is compared where it says something (our resolver always writes all three;
    # a lock written by hand or another tool may carry only name and version)
    platform = artifact.meta.get("platform")
    if platform is not None and meta.platform != platform:
        problems.append(f"{where}: platform is {meta.platform}, the lock says {platform}")
    try:
        if "dependencies" in artifact.meta:
            problems += _dependency_problems(where, artifact.meta["dependencies"], meta)
        if "required_ruby_version" in artifact.meta:
            want_ruby = _constraint_set(Requirement.parse(artifact.meta["required_ruby_version"]))
        else:
            want_ruby = None
    except (InputError, TypeError, ValueError) as exc:
        return [*problems, f"{artifact.path}: the lock's meta for this gem is malformed: {exc}"]
    if want_ruby is not None:
        have_ruby = _constraint_set(meta.required_ruby_version)
        if want_ruby != have_ruby:
            problems.append(f"{where}: required_ruby_version is {_show(have_ruby)}, the lock says {_show(want_ruby)}")
    return problems


def _dependency_problems(where: str, locked_deps: list, meta: GemMetadata) -> list[str]:
    problems = []
    locked = {n: _constraint_set(Requirement.parse(r)) for n, r in locked_deps}
    actual = {n: _constraint_set(r) for n, r in meta.dependencies}
    for name in sorted(set(locked) | set(actual)):
        if name not in actual:
            problems.append(f"{where}: does not depend on {name}, the lock says it does")
        elif name not in locked:
            problems.append(f"{where}: depends on {name} ({_show(actual[name])}), the lock does not say so")
        elif locked[name] != actual[name]:
            problems.append(
                f"{where}: requires {name} {_show(actual[name])}, the lock says {name} {_show(locked[name])}"
            )
    return problems


def _show(constraints: set[tuple[str, str]]) -> str:
    return ", ".join(f"{op} {v}" for op, v in sorted(constraints)) or ">= 0"
