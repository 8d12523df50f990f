"""The deb closure resolver: what ``apt-get install --no-install-recommends`` would install on the target.

``resolve(spec, ctx)`` reads the spec's apt sources (or this machine's), finds the candidate of every
package (newest version by Debian version order across all suites and components, or the pinned
``name=version``), and marks packages for installation the way apt's ``pkgDepCache::MarkInstall``
does, against a **base** of packages already on the target:

* ``none``: nothing installed (the full closure); ``minimal``: what ``debootstrap --variant=minbase``
  installs (``Priority: required`` and ``apt`` of the first suite, with their dependencies); or a
  dpkg status file captured on the target.
* A dependency group (``a | b``) already satisfied by the future state is left alone.  Otherwise the
  solutions are the candidates satisfying each alternative (the named package first, then providers
  ordered like apt's ``CompareProviders``), those already installed first; the first one that can be
  installed wins.  Versioned ``Provides`` satisfy versioned dependencies.
* An installed package is **upgraded** when it is requested and older than the candidate, when a
  dependency needs a newer version, when its installed version depends on the old version of a
  package being upgraded (``libssl-dev (= …)``), or when a new package ``Breaks``/``Conflicts`` it.
* ``Recommends`` are followed only with ``with_recommends``.  Architecture is the target's plus ``all``.

The result (``Resolution``) lists the packages to install with the release each comes from, an
install order for ``dpkg -i`` (``install_order``: dependencies before dependents, Pre-Depends
strictly; a dependency cycle, which dpkg tolerates for Depends, is kept together), ``stages`` (one
``dpkg -i`` call each: dpkg refuses a Pre-Depends that is only unpacked in the same call), installed
packages apt would remove (reported, not bundled), and for an unsatisfiable request a
``ResolutionError`` naming the chain of dependencies that failed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path, PurePosixPath

from debian.debian_support import Version

from bundler.apt.client import AptClient, Index, Relation, Release, build_index, parse_relations
from bundler.core.errors import InputError, ResolutionError
from bundler.core.lock import Artifact, LockPart
from bundler.spec import AptSource, Spec

log = logging.getLogger(__name__)

# The installer's own runtime when ``runtime: {mode: distro}``: Debian's python3 and the libraries the
# installer imports (python3-py7zr is in bookworm main; older suites without it get the wheel instead).
RUNTIME_DEBS: tuple[str, ...] = (
    "python3",
    "python3-yaml",
    "python3-requests",
    "python3-tqdm",
    "python3-debian",
    "python3-py7zr",
)
_INSTALLED_STATES = {
    "installed",
    "half-installed",
    "unpacked",
    "half-configured",
    "triggers-awaiting",
    "triggers-pending",
}
_PRIORITY_RANK = {"required": 1, "important": 2, "standard": 3, "optional": 4, "extra": 5}


# ----------------------------------------------------------------------------------------------------------------
# Versions of packages


@dataclass(eq=False)
class Cand:
    """One version of one package, from an index (``release`` set) or from the base (``release`` None)."""

    name: str
    version: str
    fields: dict[str, str]
    release: Release | None = None

    @cached_property
    def vkey(self) -> Version:
        return parse_version(self.version)

    @cached_property
    def depends(self) -> list[list[Relation]]:
        # apt's cache keeps Depends before Pre-Depends; both are critical
        return parse_relations(self.fields.get("Depends")) + parse_relations(self.fields.get("Pre-Depends"))

    @cached_property
    def pre_depends(self) -> list[list[Relation]]:
        return parse_relations(self.fields.get("Pre-Depends"))

    @cached_property
    def recommends(self) -> list[list[Relation]]:
        return parse_relations(self.fields.get("Recommends"))

    @cached_property
    def negative(self) -> list[Relation]:
        rels = parse_relations(self.fields.get("Conflicts")) + parse_relations(self.fields.get("Breaks"))
        return [alt for group in rels for alt in group]

    @cached_property
    def provides(self) -> dict[str, str | None]:
        return {
            r.name: r.version if r.op == "=" else None for g in parse_relations(self.fields.get("Provides")) for r in g
        }

    @cached_property
    def source(self) -> tuple[str, str]:
        """(source package, source version); a binNMU names its source version in parentheses."""
        src = self.fields.get("Source")
        if not src:
            return self.name, self.version
        name, _, ver = src.partition(" ")
        return name, ver.strip().strip("()") or self.version

    @property
    def essential(self) -> bool:
        return self.fields.get("Essential", "").lower() == "yes"

    @property
    def priority_rank(self) -> int:
        return _PRIORITY_RANK.get(self.fields.get("Priority", "optional"), 4)

    def __repr__(self) -> str:
        return f"{self.name}={self.version}"


@lru_cache(maxsize=65536)
def parse_version(text: str) -> Version:
    return Version(text)


def version_ok(have: str | Version | None, op: str | None, want: str | None) -> bool:
    if op is None:
        return True
    if have is None or want is None:
        return False
    c = (parse_version(have) if isinstance(have, str) else have)._compare(parse_version(want))
    return {"<<": c < 0, "<=": c <= 0, "=": c == 0, ">=": c >= 0, ">>": c > 0}[op]


def satisfies(cand: Cand, rel: Relation) -> bool:
    """Does ``cand`` satisfy ``rel`` directly or through its Provides?"""
    if cand.name == rel.name:
        return version_ok(cand.vkey, rel.op, rel.version)
    if rel.name in cand.provides:
        return rel.op is None or version_ok(cand.provides[rel.name], rel.op, rel.version)
    return False


# ----------------------------------------------------------------------------------------------------------------
# The universe: indexes plus the base


@dataclass
class Universe:
    indexes: list[tuple[Release, Index]]
    arch: str
    installed: dict[str, Cand] = field(default_factory=dict)
    _versions: dict[str, list[Cand]] = field(default_factory=dict)
    _providers: dict[str, list[str]] = field(default_factory=dict)
    _by_source: dict[str, list[str]] | None = None
    _inst_provides: dict[str, list[str]] | None = None

    def versions(self, name: str) -> list[Cand]:
        """Archive versions of ``name``, newest first (first source wins for an identical version)."""
        got = self._versions.get(name)
        if got is None:
            seen: dict[str, Cand] = {}
            for rel, idx in self.indexes:
                for st in idx.get(name):
                    if st.get("Architecture") not in (self.arch, "all") or st.get("Version") in seen:
                        continue
                    seen[st["Version"]] = Cand(name, st["Version"], st, rel)
            got = sorted(seen.values(), key=lambda c: c.vkey, reverse=True)
            self._versions[name] = got
        return got

    def providers(self, virtual: str) -> list[str]:
        """Names of packages (archive or installed) providing ``virtual`` in some version."""
        got = self._providers.get(virtual)
        if got is None:
            names: dict[str, None] = {}
            for _, idx in self.indexes:
                names.update(dict.fromkeys(idx.providers(virtual)))
            names.update(dict.fromkeys(self.installed_provides().get(virtual, ())))
            got = list(names)
            self._providers[virtual] = got
        return got

    def set_installed(self, installed: dict[str, Cand]) -> None:
        self.installed = installed
        self._providers.clear()
        self._by_source = self._inst_provides = None

    def installed_provides(self) -> dict[str, list[str]]:
        got = self._inst_provides
        if got is None:
            got = {}
            for name, cand in self.installed.items():
                for virtual in cand.provides:
                    got.setdefault(virtual, []).append(name)
            self._inst_provides = got
        return got

    def installed_by_source(self) -> dict[str, list[str]]:
        got = self._by_source
        if got is None:
            got = {}
            for name, cand in self.installed.items():
                got.setdefault(cand.source[0], []).append(name)
            self._by_source = got
        return got

    def held(self, name: str) -> bool:
        """apt does not change a package whose dpkg selection is ``hold`` unless the user names it."""
        cur = self.installed.get(name)
        return cur is not None and cur.fields.get("Status", "").startswith("hold ")

    def known(self, name: str) -> bool:
        return bool(self.versions(name)) or name in self.installed


def read_status(path: Path, arch: str) -> dict[str, Cand]:
    """Installed packages of a dpkg status file (``Status: … installed`` and the like)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"base {path}: cannot read the dpkg status file: {exc.strerror}") from None
    out: dict[str, Cand] = {}
    idx = build_index(text, str(path), "")
    for name in idx.names():
        for st in idx.get(name):
            words = st.get("Status", "").split()
            if len(words) != 3 or words[2] not in _INSTALLED_STATES or "Version" not in st:
                continue
            if st.get("Architecture", arch) not in (arch, "all"):
                continue
            out[name] = Cand(name, st["Version"], st, None)
    if not out and text.strip() and "Package:" not in text:
        raise InputError(f"base {path}: not a dpkg status file (no 'Package:' stanzas)")
    return out


# ----------------------------------------------------------------------------------------------------------------
# The marking algorithm


@dataclass
class Resolution:
    install: list[Cand]  # new installs and upgrades, sorted by name
    order: list[Cand]  # dpkg install order
    upgrades: dict[str, str]  # name -> installed version being replaced
    removes: list[str]  # installed packages apt would remove
    requested: list[str]


class Resolver:
    """apt's greedy MarkInstall over a ``Universe``; see the module docstring."""

    def __init__(self, universe: Universe, with_recommends: bool = False) -> None:
        self.u = universe
        self.with_recommends = with_recommends
        self.marked: dict[str, Cand] = {}
        self.removed: set[str] = set()
        self.cand_override: dict[str, Cand | None] = {}
        self.why: dict[str, tuple[str, str]] = {}  # name -> (parent, relation) that pulled it in
        self.failures: list[str] = []

    # --- state ------------------------------------------------------------------------------------------------
    def candidate(self, name: str) -> Cand | None:
        if name in self.cand_override:
            return self.cand_override[name]
        vs = self.u.versions(name)
        cur = self.u.installed.get(name)
        best = vs[0] if vs else None
        if cur is not None and (best is None or cur.vkey >= best.vkey):
            same = next((v for v in vs if v.version == cur.version), None)
            return same or cur
        return best

    def inst(self, name: str) -> Cand | None:
        """The version that will be on the target: marked, else installed (unless removed)."""
        got = self.marked.get(name)
        if got is not None:
            return got
        if name in self.removed:
            return None
        return self.u.installed.get(name)

    def satisfied_now(self, rel: Relation) -> bool:
        c = self.inst(rel.name)
        if c is not None and satisfies(c, rel):
            return True
        for p in self.u.providers(rel.name):
            c = self.inst(p)
            if c is not None and c.name != rel.name and satisfies(c, rel):
                return True
        return False

    def group_satisfied(self, group: Sequence[Relation]) -> bool:
        return any(self.satisfied_now(r) for r in group)

    def candidates_for(self, rel: Relation) -> list[Cand]:
        """Candidate versions satisfying ``rel``: the package itself, then providers (apt's order)."""
        out = []
        c = self.candidate(rel.name)
        if c is not None and satisfies(c, rel):
            out.append(c)
        provs = []
        for p in self.u.providers(rel.name):
            if p == rel.name:
                continue
            c = self.candidate(p)
            if c is not None and rel.name in c.provides and satisfies(c, rel):
                provs.append(c)
        provs.sort(key=lambda c: (c.name not in self.u.installed, not c.essential, c.priority_rank))
        return out + provs

    def solutions(self, group: Sequence[Relation]) -> list[Cand]:
        """apt's getAllPossibleSolutions: per alternative in order, installed packages first overall."""
        upgrade: list[Cand] = []
        new: list[Cand] = []
        for rel in group:
            for c in self.candidates_for(rel):
                (upgrade if c.name in self.u.installed else new).append(c)
        out: list[Cand] = []
        for c in upgrade + new:
            if c not in out:
                out.append(c)
        return out

    def conflicts_with(self, cand: Cand, rel: Relation, other: Cand) -> bool:
        return other.name != cand.name and satisfies(other, rel)

    # --- marking ----------------------------------------------------------------------------------------------
    def important_groups(self, cand: Cand) -> list[tuple[list[Relation], bool]]:
        groups = [(g, True) for g in cand.depends]
        if self.with_recommends:
            groups += [(g, False) for g in cand.recommends]
        return groups

    def deps_satisfiable(self, cand: Cand) -> list[Relation] | None:
        """The first critical group neither satisfied now nor by any candidate, else None."""
        for group in cand.depends:
            if self.group_satisfied(group):
                continue
            if not any(self.candidates_for(r) for r in group):
                return group
        return None

    def mark_install(self, name: str, *, from_user: bool = False, depth: int = 0) -> bool:
        cand = self.candidate(name)
        if cand is None:
            return False
        cur = self.u.installed.get(name)
        if not from_user:
            if cur is not None and cand.version == cur.version and name not in self.removed:
                return True
            if name in self.marked:
                return True
        if not from_user and cur is not None and cand.version != cur.version and self.u.held(name):
            self.failures.append(f"{self.chain(name)}: {name} is held at {cur.version} (dpkg selection 'hold')")
            return False
        if depth > 3000:
            raise ResolutionError(f"dependency chain too deep at {name}")
        bad = self.deps_satisfiable(cand)
        if bad is not None:
            self.failures.append(
                f"{self.chain(cand.name)} depends on {' | '.join(map(str, bad))}, {self._available(bad)}"
            )
            if not from_user:
                self.cand_override[name] = cur
                return False
        to_upgrade: list[str] = []
        delayed_remove: list[str] = []
        ok = self._remove_conflicts(cand, to_upgrade, delayed_remove)
        if not ok and not from_user:
            return False
        if cur is not None:
            self._collect_reverse_depends(cand, cur, to_upgrade)
        self._collect_source_siblings(cand, to_upgrade)
        self.marked[name] = cand
        self.removed.discard(name)
        for q in to_upgrade:
            if q not in self.marked and not self.mark_install(q, depth=depth + 1):
                self._delete(q, f"cannot be upgraded alongside {cand.name} {cand.version}")
        ok = self._install_dependencies(cand, depth) and ok
        if not ok and not from_user:
            del self.marked[name]
            return False
        for r in delayed_remove:
            self._delete(r, f"conflicts with {cand.name} {cand.version}")
        return ok

    def _available(self, group: Sequence[Relation]) -> str:
        parts = []
        for r in group:
            vs = [v.version for v in self.u.versions(r.name)]
            provs = [p for p in self.u.providers(r.name) if p != r.name]
            cand = self.candidate(r.name)
            if vs and cand is not None and r.op is not None and any(version_ok(v, r.op, r.version) for v in vs):
                parts.append(
                    f"{r.name} {cand.version} is the candidate; pin {r.name}=VERSION for another of {', '.join(vs)}"
                )
            elif vs:
                parts.append(f"{r.name} has {', '.join(vs)}")
            elif provs:
                parts.append(f"{r.name} is provided by {', '.join(provs[:5])}")
            else:
                parts.append(f"{r.name} is in no configured source")
        return "; ".join(parts)

    def _remove_conflicts(self, cand: Cand, to_upgrade: list[str], delayed_remove: list[str]) -> bool:
        ok = True
        for rel in cand.negative:
            names = [rel.name] + self.u.providers(rel.name)
            for n in dict.fromkeys(names):
                if n == cand.name:
                    continue
                other_cand = self.candidate(n)
                installed = self.u.installed.get(n)
                if n in self.marked and self.conflicts_with(cand, rel, self.marked[n]):
                    if installed is not None and not self.conflicts_with(cand, rel, installed):
                        del self.marked[n]  # keep the installed version instead
                    else:
                        self.failures.append(f"{self.chain(cand.name)} conflicts with {n} {self.marked[n].version}")
                        ok = False
                    continue
                if installed is None or n in self.removed or not self.conflicts_with(cand, rel, installed):
                    continue
                upgradable = other_cand is not None and other_cand.version != installed.version
                if upgradable and not self.conflicts_with(cand, rel, other_cand):
                    to_upgrade.append(n)
                    self.why.setdefault(n, (cand.name, f"{cand.name} breaks {rel}"))
                    continue
                delayed_remove.append(n)
        return ok

    def _collect_reverse_depends(self, cand: Cand, cur: Cand, to_upgrade: list[str]) -> None:
        """Installed packages whose installed version depends on the old version in a way the new breaks."""
        for q, qc in self.u.installed.items():
            if q in self.marked or q == cand.name or q in self.removed:
                continue
            texts = [qc.fields.get("Depends", ""), qc.fields.get("Pre-Depends", "")]
            if self.with_recommends:
                texts.append(qc.fields.get("Recommends", ""))
            if not any(cand.name in t for t in texts):
                continue  # cheap filter before parsing the relations
            for group in self.important_groups_installed(qc):
                for rel in group:
                    if rel.name != cand.name:
                        continue
                    if satisfies(cur, rel) and not satisfies(cand, rel) and q not in to_upgrade:
                        to_upgrade.append(q)
                        self.why.setdefault(q, (cand.name, f"{q} {qc.version} depends on {rel}"))

    def _collect_source_siblings(self, cand: Cand, to_upgrade: list[str]) -> None:
        """apt >= 2.6 upgrades installed binaries of the same source package together
        (APT::Get::Upgrade-By-Source-Package): those whose candidate comes from the same source version."""
        src = cand.source
        for q in self.u.installed_by_source().get(src[0], ()):
            if q == cand.name or q in self.marked or q in self.removed or q in to_upgrade:
                continue
            qc = self.candidate(q)
            if qc is not None and qc.version != self.u.installed[q].version and qc.source == src:
                to_upgrade.append(q)
                self.why.setdefault(q, (cand.name, f"same source package {src[0]} {src[1]}"))

    def important_groups_installed(self, cand: Cand) -> list[list[Relation]]:
        return cand.depends + (cand.recommends if self.with_recommends else [])

    def _install_dependencies(self, cand: Cand, depth: int) -> bool:
        ok = True
        for group, critical in self.important_groups(cand):
            if self.group_satisfied(group):
                continue
            found = False
            for sol in self.solutions(group):
                if self.candidate(sol.name) is not sol:
                    continue
                self.why.setdefault(sol.name, (cand.name, " | ".join(map(str, group))))
                if self.mark_install(sol.name, depth=depth + 1):
                    found = True
                    break
            if not found and critical:
                self.failures.append(
                    f"{self.chain(cand.name)} depends on {' | '.join(map(str, group))}: {self._available(group)}"
                )
                ok = False
                break
        return ok

    def _delete(self, name: str, reason: str) -> None:
        if name in self.u.installed:
            log.debug("apt would remove %s: %s", name, reason)
            self.removed.add(name)
        self.marked.pop(name, None)

    # --- the request ------------------------------------------------------------------------------------------
    def chain(self, name: str) -> str:
        """How ``name`` was pulled in: ``requested 1.0 -> dependency 2.0 -> name 3.0``."""
        steps = [name]
        while steps[-1] in self.why and self.why[steps[-1]][0] not in steps:
            steps.append(self.why[steps[-1]][0])
        shown = []
        for n in reversed(steps):
            c = self.marked.get(n) or self.candidate(n)
            shown.append(f"{n} {c.version}" if c is not None else n)
        return " -> ".join(shown)

    def request(self, packages: Sequence[str]) -> list[str]:
        """apt-get install PACKAGES: mark all, then resolve each one's dependencies in order."""
        names = []
        for spec in packages:
            name, _, pin = spec.partition("=")
            name = name.split(":", 1)[0]
            name = self._real_name(name)
            if pin:
                self._pin(name, pin)
            names.append(name)
        todo = []
        for name in names:
            cand = self.candidate(name)
            cur = self.u.installed.get(name)
            if cur is not None and cand is not None and cand.version == cur.version:
                log.info("%s is already the newest version (%s)", name, cur.version)
                continue
            self.marked[name] = cand
            todo.append(name)
        for name in todo:
            before = len(self.failures)
            if not self.mark_install(name, from_user=True):
                why = self.failures[before] if len(self.failures) > before else "no installable candidate"
                raise ResolutionError(f"cannot install {name}: {why}")
        self._check_consistent(names)
        return names

    def _real_name(self, name: str) -> str:
        if self.u.versions(name) or name in self.u.installed:
            return name
        provs = [p for p in self.u.providers(name) if self.candidate(p) is not None]
        if len(provs) == 1:
            log.info("selecting %s instead of the virtual package %s", provs[0], name)
            return provs[0]
        if provs:
            raise ResolutionError(
                f"package {name} is a virtual package provided by {', '.join(sorted(provs))}: name one of them"
            )
        raise ResolutionError(f"package {name} is not in any configured apt source (check the name and the sources)")

    def _pin(self, name: str, version: str) -> None:
        for v in self.u.versions(name):
            if v.version == version:
                self.cand_override[name] = v
                return
        cur = self.u.installed.get(name)
        if cur is not None and cur.version == version:
            self.cand_override[name] = cur
            return
        have = ", ".join(v.version for v in self.u.versions(name)) or "none"
        raise ResolutionError(f"package {name}: version {version} is not available (available: {have})")

    def _check_consistent(self, requested: Iterable[str]) -> None:
        """Every package to install has its Depends/Pre-Depends met and no Conflicts/Breaks with the result."""
        problems = []
        for name, cand in sorted(self.marked.items()):
            for group in cand.depends:
                if not self.group_satisfied(group):
                    problems.append(
                        f"{self.chain(name)}: unmet {' | '.join(map(str, group))} ({self._available(group)})"
                    )
            for rel in cand.negative:
                for n in dict.fromkeys([rel.name, *self.u.providers(rel.name)]):
                    other = self.inst(n)
                    if other is not None and self.conflicts_with(cand, rel, other):
                        problems.append(f"{self.chain(name)}: conflicts with {other.name} {other.version} ({rel})")
        if problems:
            raise ResolutionError(
                f"cannot resolve {', '.join(requested)}: {problems[0]}"
                + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else "")
            )

    def result(self, requested: list[str]) -> Resolution:
        install = [c for n, c in sorted(self.marked.items()) if c.release is not None]
        upgrades = {c.name: self.u.installed[c.name].version for c in install if c.name in self.u.installed}
        return Resolution(install, install_order(install, self), upgrades, sorted(self.removed), requested)


# ----------------------------------------------------------------------------------------------------------------
# Install order


def install_order(packages: list[Cand], resolver: Resolver) -> list[Cand]:
    """Dependencies before dependents (Tarjan's SCCs in topological order); inside a cycle, Pre-Depends
    first, then by name.  Deterministic: ties are broken by package name."""
    by_name = {c.name: c for c in packages}
    edges: dict[str, set[str]] = {n: set() for n in by_name}
    pre: dict[str, set[str]] = {n: set() for n in by_name}
    for c in packages:
        for kind, groups in (("dep", c.depends), ("pre", c.pre_depends)):
            for group in groups:
                for rel in group:
                    for n in [rel.name, *resolver.u.providers(rel.name)]:
                        if n in by_name and n != c.name and satisfies(by_name[n], rel):
                            (edges if kind == "dep" else pre)[c.name].add(n)
    for n in by_name:
        edges[n] |= pre[n]

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    sccs: list[list[str]] = []
    counter = 0
    for root in sorted(by_name):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(edges[nxt]))))
                    advanced = True
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                sccs.append(_order_cycle(sorted(comp), pre))
    # Tarjan emits SCCs with dependencies first
    return [by_name[n] for comp in sccs for n in comp]


def _order_cycle(members: list[str], pre: dict[str, set[str]]) -> list[str]:
    if len(members) == 1:
        return members
    inside = set(members)
    out: list[str] = []
    left = list(members)
    while left:
        ready = [n for n in left if not ((pre[n] & inside) - set(out))]
        pick = ready[0] if ready else left[0]
        out.append(pick)
        left.remove(pick)
    return out


# ----------------------------------------------------------------------------------------------------------------
# Entry points


@dataclass
class DebRequest:
    packages: tuple[str, ...]
    sources: tuple[AptSource, ...]
    arch: str = "amd64"
    base: str = "minimal"
    with_recommends: bool = False


def load_universe(client: AptClient, sources: Sequence[AptSource], arch: str) -> Universe:
    """Every suite's verified Release and Packages indexes, fetched in parallel, kept in sources order."""

    def one_suite(source: AptSource, suite: str) -> list[tuple[Release, Index]]:
        rel = client.release(source, suite)
        out = []
        for comp in source.components:
            out.append((rel, client.packages(rel, comp, arch)))
            all_path = f"{comp}/binary-all/Packages"
            # apt reads binary-all only when Release lists "all" among its Architectures
            archs = rel.fields.get("Architectures")
            no_all = "Packages" in rel.fields.get("No-Support-for-Architecture-all", "")
            wants_all = archs is None or "all" in archs.split()
            if wants_all and not no_all and any(rel.entry(all_path + s) for s in ("", ".gz", ".xz")):
                out.append((rel, client.index(rel, all_path)))
        return out

    pairs = [(source, suite) for source in sources for suite in source.suites]
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(pairs)))) as pool:
        results = list(pool.map(lambda p: one_suite(*p), pairs))
    return Universe([x for r in results for x in r], arch)


def minimal_base(universe: Universe) -> dict[str, Cand]:
    """What ``debootstrap --variant=minbase SUITE`` installs, as the installed base: the Priority: required
    (and Essential) packages of the *first* suite of the first source only (debootstrap reads no
    -updates or -security suite), plus ``apt``, with their dependencies from that suite.  Like
    debootstrap on bookworm, ``usr-is-merged`` is installed instead of the ``usrmerge`` migration package.
    Newer versions in the other suites are then upgrades, as apt on the target would make them."""
    if not universe.indexes:
        raise ResolutionError("base 'minimal': no apt sources")
    first = universe.indexes[0][0]
    suite = [(rel, idx) for rel, idx in universe.indexes if rel.source == first.source and rel.suite == first.suite]
    names: dict[str, None] = {}
    for _, idx in suite:
        names.update(dict.fromkeys(idx.names_with_line("Priority: required", "Essential: yes")))
    if not names:
        raise ResolutionError(f"base 'minimal': {first.dists_url} lists no Priority: required packages")
    base_universe = Universe(suite, universe.arch)
    extra = [n for n in ("apt", "usr-is-merged") if base_universe.versions(n)]
    r = Resolver(base_universe)
    r.request(sorted(names) + [n for n in extra if n not in names])
    return {c.name: Cand(c.name, c.version, c.fields, None) for c in r.marked.values()}


def resolve_request(req: DebRequest, client: AptClient, universe: Universe | None = None) -> Resolution:
    """Resolve ``req``; ``universe`` (from ``load_universe`` of the same sources) saves reading them again."""
    universe = universe or load_universe(client, req.sources, req.arch)
    if req.base == "none":
        pass
    elif req.base == "minimal":
        universe.set_installed(minimal_base(universe))
    else:
        universe.set_installed(read_status(Path(req.base), req.arch))
    resolver = Resolver(universe, req.with_recommends)
    requested = resolver.request(list(req.packages))
    res = resolver.result(requested)
    if res.removes:
        log.warning("apt would remove installed packages: %s", ", ".join(res.removes))
    return res


def spec_sources(spec: Spec) -> tuple[AptSource, ...]:
    if spec.apt is None:
        raise InputError(f"{spec.path}: debs: needs an 'apt' section")
    if spec.apt.system:
        return tuple(AptClient.system_sources())
    return spec.apt.sources


def artifact_for(cand: Cand) -> Artifact:
    rel = cand.release
    assert rel is not None
    f = cand.fields
    filename = f.get("Filename")
    sha256 = f.get("SHA256")
    if not filename or not sha256 or not f.get("Size", "").isdigit():
        raise ResolutionError(
            f"{cand.name} {cand.version} in {rel.dists_url}: Packages entry lacks Filename/Size/SHA256"
        )
    source = f.get("Source", cand.name)
    src_name, _, src_ver = source.partition(" ")
    meta = {
        "architecture": f.get("Architecture", ""),
        "source": src_name,
        "source_version": src_ver.strip("()") or cand.version,
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


def lock_part(res: Resolution, base: str, runtime_names: Sequence[str] = (), with_recommends: bool = False) -> LockPart:
    artifacts = tuple(artifact_for(c) for c in res.install)
    by_name = {a.name: a for a in artifacts}
    section: dict[str, object] = {
        "install_order": [by_name[c.name].path for c in res.order],
        "base": base,
        "requested": sorted(res.requested),
        "with_recommends": with_recommends,
    }
    if base not in ("none", "minimal"):
        section["base_sha256"] = hashlib.sha256(Path(base).read_bytes()).hexdigest()
    if res.upgrades:
        section["upgrades"] = dict(sorted(res.upgrades.items()))
    if res.removes:
        section["removes"] = list(res.removes)
    stages = install_stages(res.order)
    section["stages"] = [[by_name[c.name].path for c in stage] for stage in stages]
    if runtime_names:
        runtime = _closure_paths(res, runtime_names)
        section["runtime"] = [p for p in section["install_order"] if p in runtime]
        # the bootstrap installs these first, before the rest: one dpkg -i call per stage
        section["runtime_stages"] = [kept for st in section["stages"] if (kept := [p for p in st if p in runtime])]
    return LockPart(artifacts, "debs", section)


def install_stages(order: Sequence[Cand]) -> list[list[Cand]]:
    """Split the install order into ``dpkg -i`` calls: dpkg refuses to unpack a package whose
    Pre-Depends are only unpacked in the same call, so a pre-dependency goes in an earlier stage;
    a Depends target goes in the same stage or an earlier one (a Depends cycle stays together)."""
    in_set = {c.name: c for c in order}
    providers: dict[str, list[Cand]] = {}
    for c in order:
        providers.setdefault(c.name, []).append(c)
        for virtual in c.provides:
            providers.setdefault(virtual, []).append(c)

    def targets(groups: list[list[Relation]], owner: str) -> set[str]:
        out = set()
        for group in groups:
            for rel in group:
                out.update(m.name for m in providers.get(rel.name, ()) if m.name != owner and satisfies(m, rel))
        return out

    deps = {c.name: targets(c.depends, c.name) for c in order}
    pre = {c.name: targets(c.pre_depends, c.name) for c in order}
    stage = dict.fromkeys(in_set, 0)
    for _ in range(len(order) + 1):  # fixpoint; a Pre-Depends cycle (which dpkg cannot install either) stops here
        changed = False
        for c in order:
            want = max([stage[d] for d in deps[c.name]] + [stage[q] + 1 for q in pre[c.name]] + [stage[c.name]])
            if want != stage[c.name] and want <= len(order):
                stage[c.name] = want
                changed = True
        if not changed:
            break
    count = max(stage.values(), default=-1) + 1
    return [[c for c in order if stage[c.name] == i] for i in range(count)]


def _closure_paths(res: Resolution, names: Sequence[str]) -> set[str]:
    """Paths of the given packages and everything they pull in from the install set."""
    by_name = {c.name: c for c in res.install}
    todo = [n for n in names if n in by_name]
    seen: set[str] = set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        for group in by_name[n].depends:
            for rel in group:
                for m in (rel.name, *[c.name for c in res.install if rel.name in c.provides]):
                    if m in by_name and satisfies(by_name[m], rel):
                        todo.append(m)
    return {f"debs/{PurePosixPath(by_name[n].fields['Filename']).name}" for n in seen}


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
    req = DebRequest(tuple(packages), tuple(sources), spec.target.arch, spec.debs.base, spec.debs.with_recommends)
    res = resolve_request(req, client, universe)
    for name in res.removes:
        ctx.warn(f"debs: apt would remove {name} from the base to install this set; the bundle cannot do that")
    return lock_part(res, spec.debs.base, runtime, spec.debs.with_recommends)
