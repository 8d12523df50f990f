"""Checking the site file and the rendered manifests before bosh-init or the director see them.

Two layers, both collecting every problem before reporting: the site's own rules
(``installer.site.rules``) and the rule sets of the tools that will read the manifests
(``installer.manifests.boshinit`` for MicroBOSH, ``installer.manifests.director`` for BOSH).  A
manifest problem carries a manifest key path; ``rendered_problems`` maps it back to the site field
the value came from (``Rendered.sources``), so the operator is told which line of ``site.yml`` to
change.  A problem with no site origin is a template or lock problem and says so.  A third layer
looks inside the locked releases (``installer.manifests.releases``): each must carry its name and
every job the manifests name.  ``check``
formats them all, site problems first: ``site.yml:21: microbosh.static_ip: 10.1.0.6 is outside
network.cidr 10.0.0.0/24``.  Imports the site model and rules, the lock and the manifests package.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bundler.core.lock import Lock
from bundler.core.problems import Problem
from bundler.core.yamlfile import raise_problems
from installer.manifests.boshinit import bosh_init_problems
from installer.manifests.director import v1_problems
from installer.manifests.releases import ReleaseReader, bundle_problems
from installer.manifests.render import SITE_SECTIONS, UNKNOWN_UUID, Rendered
from installer.site.model import Site
from installer.site.rules import site_problems


def format_problem(site: Site, p: Problem) -> str:
    """``site.yml:LINE: field: message`` for a site field, ``where: message`` otherwise."""
    head = p.where.split(".")[0].split("[")[0]
    if head in SITE_SECTIONS:
        return f"{site.where(p.where)}: {p.message}"
    return str(p)


def vars_store_problems(site: Site, payload: Path | None, bundle: Path | None) -> list[Problem]:
    """The vars store holds the generated secrets: never inside the payload or the bundle."""
    out = []
    store = site.vars_store.resolve()
    for label, d in (("the extracted payload", payload), ("the bundle", bundle)):
        if d is not None and store.is_relative_to(Path(d).resolve()):
            out.append(Problem("vars_store", f"{store} is inside {label} ({d}); keep secrets outside it"))
    return out


def rendered_problems(rendered: Rendered, target_uuid: str | None = None) -> list[Problem]:
    """Manifest rule violations, each attributed to the site field (or lock entry) it came from."""
    if rendered.kind == "microbosh":
        raw = bosh_init_problems(rendered.manifest)
    else:
        raw = v1_problems(rendered.manifest, target_uuid)
        if rendered.manifest.get("director_uuid") == UNKNOWN_UUID:
            raw = [p for p in raw if p.where != "director_uuid"]
    out = list(rendered.problems)
    for p in raw:
        origin = rendered.source_of(p.where)
        where = f"in the {rendered.kind} manifest at {p.where}"
        if origin is None:
            out.append(Problem(f"manifests/{rendered.kind}.yml", f"{p.message} ({where}; a template bug)"))
        else:
            out.append(Problem(origin, f"{p.message} ({where})"))
    return out


def check(
    site: Site,
    lock: Lock,
    rendered: Sequence[Rendered],
    extra: Sequence[Problem] = (),
    bundle: Path | None = None,
) -> list[str]:
    """Every problem of the site, of the rendered manifests and of the releases they name (read
    extracted, or from ``bundle``'s payload), formatted, site problems first.

    A manifest problem whose site field already has a site-level problem is left out: the site-level
    message says the same thing in the operator's words."""
    kinds = [r.kind for r in rendered] or ["microbosh"]
    problems = site_problems(site, lock, kinds) + list(extra)
    flagged = {p.where.split("[")[0] for p in problems}
    for r in rendered:
        for p in rendered_problems(r):
            if p.where.split("[")[0] not in flagged:
                problems.append(p)
    with ReleaseReader(bundle) as reader:
        for r in rendered:
            problems += bundle_problems(r, reader)
    seen: set[str] = set()
    lines = []
    for p in problems:
        line = format_problem(site, p)
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return lines


def raise_if_any(lines: Sequence[str]) -> None:
    """``InputError`` listing every line, when there is any."""
    raise_problems(lines)
