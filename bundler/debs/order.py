"""The dpkg install order of a resolution: dependencies before dependents.

``install_order(packages, universe)`` orders the packages to install by Tarjan's strongly connected
components in topological order (dependencies first; Depends and Pre-Depends both count, matched
version-aware through ``Provides``); inside a dependency cycle, which dpkg tolerates for Depends, the
members are kept together with Pre-Depends first, then by name.  Deterministic: ties are broken by
package name.  The ``dpkg -i`` calls are then cut by the one stages algorithm,
``bundler.core.deb.stages.install_stages``.

Imports ``bundler.debs.universe``.
"""

from __future__ import annotations

from bundler.debs.universe import Cand, Universe, satisfies


def install_order(packages: list[Cand], universe: Universe) -> list[Cand]:
    """Dependencies before dependents (Tarjan's SCCs in topological order); inside a cycle, Pre-Depends
    first, then by name.  Deterministic: ties are broken by package name."""
    by_name = {c.name: c for c in packages}
    edges, pre = _edges(by_name, universe)
    return [by_name[n] for comp in _components(edges) for n in _order_cycle(sorted(comp), pre)]


def _edges(by_name: dict[str, Cand], universe: Universe) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(every dependency, the pre-dependencies) of each package, among the packages."""
    edges: dict[str, set[str]] = {n: set() for n in by_name}
    pre: dict[str, set[str]] = {n: set() for n in by_name}
    for c in by_name.values():
        for kind, groups in (("dep", c.depends), ("pre", c.pre_depends)):
            for group in groups:
                for rel in group:
                    for n in [rel.name, *universe.providers(rel.name)]:
                        if n in by_name and n != c.name and satisfies(by_name[n], rel):
                            (edges if kind == "dep" else pre)[c.name].add(n)
    for n in by_name:
        edges[n] |= pre[n]
    return edges, pre


def _components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively, roots and successors by name: they come
    out with dependencies first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    sccs: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on.add(node)
        work.append((node, iter(sorted(edges[node]))))

    for root in sorted(edges):
        if root in index:
            continue
        work: list = []
        visit(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    visit(nxt)
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
                sccs.append(comp)
    return sccs


def _order_cycle(members: list[str], pre: dict[str, set[str]]) -> list[str]:
    """The members of one component: each after its pre-dependencies inside it where possible, else by name."""
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
