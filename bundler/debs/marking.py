"""The marking resolver: apt's ``pkgDepCache::MarkInstall``, greedy, over a ``Universe``.

``Resolver(universe, with_recommends).request(packages)`` marks packages for installation the way
``apt-get install --no-install-recommends`` does, against the base already on the target
(``Universe.installed``):

* The candidate of a package is the policy's (``bundler.debs.policy``: pin priorities, NotAutomatic
  suites, the target's preferences), or what the request names (``bundler.debs.request``).
* A dependency group (``a | b``) already satisfied by the future state is left alone.  Otherwise the
  solutions are the candidates satisfying each alternative (the named package first, then providers
  ordered like apt's ``CompareProviders``), those already installed first; the first one that can be
  installed wins.
* An installed package is **upgraded** when it is requested and older than the candidate, when a
  dependency needs a newer version, when its installed version depends on the old version of a
  package being upgraded (``libssl-dev (= …)``), when a new package ``Breaks``/``Conflicts`` it, or
  when it is a binary of the same source as an upgraded one (only when the target's apt, read from
  the base, is 2.6 or newer; best effort: a sibling that cannot follow stays).  A held package is
  neither upgraded nor removed, nor is an Essential or Protected one removed: the request fails
  naming it.
* ``Recommends`` are followed only with ``with_recommends``: those of an installed package's new
  version only when new or satisfied before; one that cannot be installed leaves nothing marked.

``result(requested)`` is a ``Resolution``: the packages to install with the release each comes from,
the install order (``bundler.debs.order``), the ``dpkg -i`` stages (``bundler.core.deb.stages``), the
upgrades, and the installed packages apt would remove (reported, not bundled).  An unsatisfiable
request is a ``ResolutionError`` naming the chain of dependencies that failed.

Imports ``bundler.core`` and the other ``bundler.debs`` modules.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bundler.core.deb.deb822 import Relation
from bundler.core.deb.stages import install_stages
from bundler.core.errors import ResolutionError
from bundler.debs.order import install_order
from bundler.debs.universe import Cand, Universe, satisfies, version_ok

log = logging.getLogger(__name__)


@dataclass
class Resolution:
    """What to install (see the module docstring)."""

    install: list[Cand]  # new installs and upgrades, sorted by name
    order: list[Cand]  # dpkg install order
    stages: list[list[Cand]]  # the order cut into dpkg -i calls (Pre-Depends)
    upgrades: dict[str, str]  # name -> installed version being replaced
    removes: list[str]  # installed packages apt would remove
    requested: list[str]


class Resolver:
    """apt's greedy MarkInstall over a ``Universe``; see the module docstring."""

    def __init__(self, universe: Universe, with_recommends: bool = False) -> None:
        self.u = universe
        self.with_recommends = with_recommends
        apt = universe.apt_version()
        # APT::Get::Upgrade-By-Source-Package came with apt 2.6; an empty target follows this machine's rules
        self.by_source = apt is None or version_ok(apt, ">=", "2.6~")
        self.marked: dict[str, Cand] = {}
        self.removed: set[str] = set()
        self.cand_override: dict[str, Cand | None] = {}
        self.why: dict[str, tuple[str, str]] = {}  # name -> (parent, relation) that pulled it in
        self.failures: list[str] = []

    # --- state ------------------------------------------------------------------------------------------------
    def candidate(self, name: str) -> Cand | None:
        if name in self.cand_override:
            return self.cand_override[name]
        return self.u.candidate(name)

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
            cur = self.u.installed.get(cand.name)
            groups += [(g, False) for g in cand.recommends if cur is None or self._recommend_wanted(g, cur)]
        return groups

    def _recommend_wanted(self, group: Sequence[Relation], cur: Cand) -> bool:
        """apt follows a Recommends of an installed package's new version only when it is new (the installed
        version does not recommend that package) or the installed version's one is satisfied now."""
        old = [g for g in cur.recommends if g and g[0].name == group[0].name]
        return not old or any(self.satisfied_in_base(r) for g in old for r in g)

    def satisfied_in_base(self, rel: Relation) -> bool:
        cur = self.u.installed.get(rel.name)
        if cur is not None and satisfies(cur, rel):
            return True
        return any(
            (c := self.u.installed.get(p)) is not None and p != rel.name and satisfies(c, rel)
            for p in self.u.providers(rel.name)
        )

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
        siblings: list[str] = []
        if self.by_source:
            self._collect_source_siblings(cand, to_upgrade, siblings)
        self.marked[name] = cand
        self.removed.discard(name)
        for q in to_upgrade:
            if q not in self.marked and not self.mark_install(q, depth=depth + 1):
                ok = self._delete(q, f"cannot be upgraded alongside {cand.name} {cand.version}") and ok
        for q in siblings:  # best effort: a sibling that cannot be upgraded stays as it is
            if q not in self.marked:
                self.mark_install(q, depth=depth + 1)
        ok = self._install_dependencies(cand, depth) and ok
        if not ok and not from_user:
            del self.marked[name]
            return False
        for r in delayed_remove:
            ok = self._delete(r, f"conflicts with {cand.name} {cand.version}") and ok
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

    def _collect_source_siblings(self, cand: Cand, to_upgrade: list[str], siblings: list[str]) -> None:
        """apt >= 2.6 upgrades installed binaries of the same source package together
        (APT::Get::Upgrade-By-Source-Package): those whose candidate comes from the same source version,
        unless held."""
        src = cand.source
        for q in self.u.installed_by_source().get(src[0], ()):
            if q == cand.name or q in self.marked or q in self.removed or q in to_upgrade or self.u.held(q):
                continue
            qc = self.candidate(q)
            if qc is not None and qc.version != self.u.installed[q].version and qc.source == src:
                siblings.append(q)
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
                # a Recommends that cannot be installed leaves nothing behind (apt restores its state)
                saved = None if critical else (dict(self.marked), set(self.removed), dict(self.cand_override))
                if self.mark_install(sol.name, depth=depth + 1):
                    found = True
                    break
                if saved is not None:
                    self.marked, self.removed, self.cand_override = saved
            if not found and critical:
                self.failures.append(
                    f"{self.chain(cand.name)} depends on {' | '.join(map(str, group))}: {self._available(group)}"
                )
                ok = False
                break
        return ok

    def _delete(self, name: str, reason: str) -> bool:
        """Mark an installed package for removal; a held, Essential or Protected one is never removed."""
        cur = self.u.installed.get(name)
        if cur is not None:
            why_not = unremovable(self.u, cur)
            if why_not:
                self.failures.append(f"{self.chain(name)}: {name} {reason} but is {why_not}: apt does not remove it")
                self.marked.pop(name, None)
                return False
            log.debug("apt would remove %s: %s", name, reason)
            self.removed.add(name)
        self.marked.pop(name, None)
        return True

    # --- the request (bundler.debs.request) ---------------------------------------------------------------------
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

    def request(self, packages: Sequence[str], labels: Sequence[str] = ()) -> list[str]:
        """apt-get install PACKAGES (``name``, ``name=version``, ``name/suite``, ``name:arch``);
        ``labels`` name where each request comes from (``bundle.yml:12: debs.packages[3]``)."""
        from bundler.debs.request import mark_request

        names = mark_request(self, packages, labels)
        self._check_consistent(names)
        return names

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
        order = install_order(install, self.u)
        stages = install_stages(order, satisfies)
        return Resolution(install, order, stages, upgrades, sorted(self.removed), requested)


def unremovable(universe: Universe, cur: Cand) -> str:
    """Why apt will not remove an installed package: held, Essential or Protected (else empty)."""
    if universe.held(cur.name):
        return f"held at {cur.version} (dpkg selection 'hold')"
    if cur.essential:
        return "Essential"
    if cur.fields.get("Protected", "").lower() == "yes":
        return "Protected"
    return ""
