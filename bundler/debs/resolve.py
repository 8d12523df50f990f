"""The deb part of the lock: what ``apt-get install --no-install-recommends`` would install on the target.

``resolve(spec, ctx)`` (called by ``bundler.resolve`` for the spec's ``debs`` section) reads the spec's
apt sources (or this machine's) into a universe (``bundler.debs.universe``), adds the installer's
runtime debs in ``runtime: distro`` mode (``runtime_debs``), resolves the request against the base
(``resolve_request``) and returns the lock part (``lock_part``): one ``Artifact`` per package to
install (``artifact_for``: URL, size and sha256 from the signed Packages index, trust from the
Release) and the ``debs`` section: ``install_order``, ``stages`` (one ``dpkg -i`` call each),
``runtime`` and ``runtime_stages`` (what the bootstrap installs first), ``base`` (and the sha256 of a
status-file base), ``requested``, ``upgrades``, and ``sources`` (each suite's Release Date and
Valid-Until).  A set apt would install only by removing installed packages is refused
(``refuse_removals``: the offline ``dpkg -i`` would fail): the message names them and what to do.
The target's apt preferences (``debs.preferences``) set the pin priorities (``bundler.debs.policy``).

The base is ``none`` (nothing installed), ``minimal`` (``minimal_base``: what ``debootstrap
--variant=minbase`` installs) or a dpkg status file captured on the target.  ``DebRequest`` and
``resolve_request`` are also what ``bosh-bundle debs resolve`` uses.

Imports ``bundler.apt``, ``bundler.core``, the spec and the other ``bundler.debs`` modules.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from bundler.apt.client import AptClient
from bundler.core.digest import sha256_file
from bundler.core.errors import InputError, ResolutionError
from bundler.core.lock import Artifact, LockPart
from bundler.debs.freshness import older_than_before, previous_records, release_records
from bundler.debs.marking import Resolution, Resolver
from bundler.debs.policy import PinRule, Policy, parse_preferences
from bundler.debs.universe import Cand, Universe, load_universe, read_status, satisfies
from bundler.spec import AptSource, Spec

log = logging.getLogger(__name__)

# The installer's own runtime when ``runtime: {mode: distro}``: Debian's python3 and the libraries the
# offline side imports (python3-py7zr is in bookworm main; older suites without it get the wheel instead).
RUNTIME_DEBS: tuple[str, ...] = (
    "python3",
    "python3-yaml",
    "python3-tqdm",
    "python3-py7zr",
)


@dataclass
class DebRequest:
    """``apt-get install PACKAGES`` (names or ``name=version``) from ``sources`` onto ``base``."""

    packages: tuple[str, ...]
    sources: tuple[AptSource, ...]
    arch: str = "amd64"
    base: str = "minimal"
    with_recommends: bool = False
    preferences: tuple[str, ...] = ()  # apt preferences files of the target
    labels: tuple[str, ...] = ()  # per package, where it was asked for (spec file and line)


_NOT_A_RELEASE = ("-updates", "-security", "-backports", "-backports-sloppy", "-proposed-updates", "/updates")


def base_release(universe: Universe):
    """The target's release suite, which debootstrap installs from: the first suite that is not an
    -updates, -security or -backports suite, whatever order the sources are given in."""
    releases = list({id(rel): rel for rel, _ in universe.indexes}.values())
    if not releases:
        raise ResolutionError("base 'minimal': no apt sources")
    return next((r for r in releases if not r.suite.endswith(_NOT_A_RELEASE)), releases[0])


def minimal_base(universe: Universe) -> dict[str, Cand]:
    """What ``debootstrap --variant=minbase SUITE`` installs, as the installed base: the Priority: required
    (and Essential) packages of the target's release suite only (``base_release``: debootstrap reads no
    -updates or -security suite), plus ``apt``, with their dependencies from that suite.  Like
    debootstrap, ``usr-is-merged`` is added on bookworm only (instead of the ``usrmerge`` migration
    package; bullseye has neither, later releases need neither).  Newer versions in the other suites
    are then upgrades, as apt on the target would make them."""
    first = base_release(universe)
    suite = [(rel, idx) for rel, idx in universe.indexes if rel is first]
    names: dict[str, None] = {}
    for _, idx in suite:
        names.update(dict.fromkeys(idx.names_with_line("Priority: required", "Essential: yes")))
    if not names:
        raise ResolutionError(f"base 'minimal': {first.dists_url} lists no Priority: required packages")
    base_universe = Universe(suite, universe.arch)
    codename = first.fields.get("Codename", first.suite)
    extra = [n for n in ("apt", "usr-is-merged") if base_universe.versions(n)]
    if codename != "bookworm":
        extra = [n for n in extra if n != "usr-is-merged"]
    r = Resolver(base_universe)
    r.request(sorted(names) + [n for n in extra if n not in names])
    return {c.name: Cand(c.name, c.version, c.fields, None) for c in r.marked.values()}


def resolve_request(req: DebRequest, client: AptClient, universe: Universe | None = None) -> Resolution:
    """Resolve ``req``; ``universe`` (from ``load_universe`` of the same sources) saves reading them again."""
    universe = universe or load_universe(client, req.sources, req.arch)
    if req.preferences:
        universe.set_policy(Policy(read_preferences(req.preferences), req.arch))
    if req.base == "none":
        pass
    elif req.base == "minimal":
        universe.set_installed(minimal_base(universe))
    else:
        universe.set_installed(read_status(Path(req.base), req.arch))
    resolver = Resolver(universe, req.with_recommends)
    requested = resolver.request(list(req.packages), req.labels)
    res = resolver.result(requested)
    if res.removes:
        log.warning("apt would remove installed packages: %s", ", ".join(res.removes))
    return res


def read_preferences(paths: Sequence[str]) -> list[PinRule]:
    """The pins of the target's apt preferences files, in the order given (apt reads
    ``/etc/apt/preferences`` first, then ``preferences.d/*`` sorted)."""
    rules: list[PinRule] = []
    for p in paths:
        try:
            text = Path(p).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"debs.preferences: {p}: cannot read: {exc.strerror}") from None
        rules += parse_preferences(text, p)
    return rules


def spec_sources(spec: Spec) -> tuple[AptSource, ...]:
    """The spec's apt sources, or this machine's for ``apt: {sources: system}``."""
    if spec.apt is None:
        raise InputError(f"{spec.path}: debs: needs an 'apt' section")
    if spec.apt.system:
        return tuple(replace(s, frozen=s.frozen or spec.apt.frozen) for s in AptClient.system_sources())
    return spec.apt.sources


def artifact_for(cand: Cand) -> Artifact:
    """The lock's artifact for a candidate from an index: URL, size and sha256 as its Packages stanza gives."""
    rel = cand.release
    assert rel is not None
    f = cand.fields
    filename = f.get("Filename")
    sha256 = f.get("SHA256")
    if not filename or not sha256 or not f.get("Size", "").isdigit():
        raise ResolutionError(
            f"{cand.name} {cand.version} in {rel.dists_url}: Packages entry lacks Filename/Size/SHA256"
        )
    src_name, src_version = cand.source
    meta = {
        "architecture": f.get("Architecture", ""),
        "source": src_name,
        "source_version": src_version,
        "suite": rel.suite,
    }
    if f.get("Multi-Arch"):
        meta["multi_arch"] = f["Multi-Arch"]
    if cand.essential:
        meta["essential"] = True
    return Artifact(
        kind="deb",
        name=cand.name,
        version=cand.version,
        url=rel.url_of(filename),
        size=int(f["Size"]),
        sha256=sha256.lower(),
        trust=rel.trust,
        path=f"debs/{PurePosixPath(filename).name}",
        meta=meta,
    )


def lock_part(
    res: Resolution,
    base: str,
    runtime_names: Sequence[str] = (),
    with_recommends: bool = False,
    sources: Sequence[dict[str, str]] = (),
) -> LockPart:
    """The artifacts and the ``debs`` section of a resolution; ``runtime_names`` (with what they pull in)
    are also listed as ``runtime`` and ``runtime_stages``; ``sources`` is each suite's Release Date and
    Valid-Until (``bundler.debs.freshness``)."""
    edges = dependency_edges(res)
    artifacts = tuple(_with_depends(artifact_for(c), edges[c.name]) for c in res.install)
    by_name = {a.name: a for a in artifacts}
    section: dict[str, object] = {
        "install_order": [by_name[c.name].path for c in res.order],
        "base": base,
        "requested": sorted(res.requested),
        "with_recommends": with_recommends,
    }
    if base not in ("none", "minimal"):
        section["base_sha256"] = sha256_file(Path(base))
    if res.upgrades:
        section["upgrades"] = dict(sorted(res.upgrades.items()))
    if res.removes:
        section["removes"] = list(res.removes)
    section["stages"] = [[by_name[c.name].path for c in stage] for stage in res.stages]
    if sources:
        section["sources"] = [dict(r) for r in sources]
    if runtime_names:
        runtime = {by_name[n].path for n in _closure(res, runtime_names)}
        section["runtime"] = [p for p in section["install_order"] if p in runtime]
        # the bootstrap installs these first, before the rest: one dpkg -i call per stage
        section["runtime_stages"] = [kept for st in section["stages"] if (kept := [p for p in st if p in runtime])]
    return LockPart(artifacts, "debs", section)


def dependency_edges(res: Resolution) -> dict[str, list[str]]:
    """Package -> the packages of the install set that satisfy its Depends and Pre-Depends (by name or
    by Provides): its dependency edges within the bundle (what the base provides is not among them)."""
    by_name = {c.name: c for c in res.install}
    providers: dict[str, list[str]] = {}
    for c in res.install:
        for virtual in c.provides:
            providers.setdefault(virtual, []).append(c.name)
    edges: dict[str, list[str]] = {}
    for cand in res.install:
        found = {
            m
            for group in cand.depends
            for rel in group
            for m in (rel.name, *providers.get(rel.name, ()))
            if m in by_name and m != cand.name and satisfies(by_name[m], rel)
        }
        edges[cand.name] = sorted(found)
    return edges


def _with_depends(artifact: Artifact, names: list[str]) -> Artifact:
    return replace(artifact, meta={**artifact.meta, "depends": names}) if names else artifact


def _closure(res: Resolution, names: Sequence[str]) -> set[str]:
    """The given packages and everything they pull in from the install set."""
    edges = dependency_edges(res)
    todo = [n for n in names if n in edges]
    seen: set[str] = set()
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(edges[n])
    return seen


def runtime_debs(universe: Universe) -> list[str]:
    """RUNTIME_DEBS that the sources have (python3-py7zr is missing from older suites)."""
    return [n for n in RUNTIME_DEBS if universe.versions(n)]


def resolve(spec: Spec, ctx) -> LockPart:
    """Spec ``debs`` section (plus the installer's runtime in ``runtime: distro`` mode) -> lock part."""
    assert spec.debs is not None
    sources = spec_sources(spec)
    client = AptClient(ctx.http, ctx.cache)
    universe = load_universe(client, sources, spec.target.arch)
    packages = list(spec.debs.packages)
    runtime: list[str] = []
    if spec.runtime is not None and spec.runtime.mode == "distro":
        runtime = runtime_debs(universe)
        packages += [p for p in runtime if p not in packages]
    prefs = tuple(str(spec.path.parent / p) for p in spec.debs.preferences)
    req = DebRequest(
        tuple(packages),
        tuple(sources),
        spec.target.arch,
        spec.debs.base,
        spec.debs.with_recommends,
        prefs,
        labels=spec.debs.where,
    )
    res = resolve_request(req, client, universe)
    if res.removes:
        raise ResolutionError(refuse_removals(res))
    records = release_records(rel for rel, _ in universe.indexes)
    for line in older_than_before(records, previous_records(spec.path.with_name("bundle.lock"))):
        ctx.warn(f"debs: {line}")
    return lock_part(res, spec.debs.base, runtime, spec.debs.with_recommends, records)


def refuse_removals(res: Resolution) -> str:
    """The lock refuses a set apt would install only by removing packages from the target: the offline
    ``dpkg -i`` would fail on the conflict.  Say what apt removes and what to do."""
    names = ", ".join(res.removes)
    return (
        f"debs: apt would remove {names} from the base to install {', '.join(res.requested)}"
        " (Conflicts/Breaks); the installer does not remove packages. Remove them on the target first"
        f" (apt-get remove {' '.join(res.removes)}) and copy its /var/lib/dpkg/status again as debs.base,"
        " or drop the package that conflicts from debs.packages"
    )
