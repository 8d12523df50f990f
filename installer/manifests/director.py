"""The v233 director's rules for a BOSH v1 deployment manifest (DESIGN.md), applied to the rendered manifest.

``v1_problems(manifest, target_uuid)`` returns every violation as a ``Problem`` whose ``where`` is
the manifest key path (``jobs[3].networks[0].static_ips[0]``): exactly one of ``release`` and
``releases``, the update block's numbers and watch times, manual networks whose subnets do not
overlap and whose static and reserved ranges stay inside them and apart, jobs whose static IPs
are in their network's static range and used once.  The manifest is only read, never changed.
Imports ``bundler.core.problems``, the site's address parsing and the subnet rule of
``installer.manifests.boshinit``.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from bundler.core.problems import Problem
from installer.manifests.boshinit import NETWORK_TYPES, subnet_problems
from installer.site.addresses import MAX_RANGE, ip, parse_range

WATCH_RE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")
Address = ipaddress.IPv4Address


def _ranges_of(entries: Iterable[Any], path: str, rng, out: list[Problem]) -> set[Address]:
    """The addresses of a subnet's ``static`` or ``reserved`` list, each entry inside ``rng``."""
    addresses: set[Address] = set()
    for k, entry in enumerate(entries or []):
        try:
            a, b = parse_range(entry)
        except ValueError:
            out.append(Problem(f"{path}[{k}]", f"{entry!r} is not an address or a range 'A - B'"))
            continue
        if rng is not None and (a not in rng or b not in rng):
            out.append(Problem(f"{path}[{k}]", f"{entry} is not inside range {rng}"))
        if int(b) - int(a) <= MAX_RANGE:
            addresses.update(ipaddress.IPv4Address(x) for x in range(int(a), int(b) + 1))
    return addresses


def _watch(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value >= 0
    m = WATCH_RE.match(str(value))
    return bool(m) and (m.group(2) is None or int(m.group(1)) <= int(m.group(2)))


def _int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def v1_problems(m: Any, target_uuid: str | None = None) -> list[Problem]:
    """The v233 director's deployment manifest rules (DESIGN.md), each with its manifest key path."""
    if not isinstance(m, dict):
        return [Problem("", "the manifest is not a mapping")]
    out: list[Problem] = []
    if not m.get("name"):
        out.append(Problem("name", "name is required"))
    uuid = m.get("director_uuid")
    if not uuid:
        out.append(Problem("director_uuid", "director_uuid is required"))
    elif target_uuid is not None and uuid != target_uuid:
        out.append(Problem("director_uuid", f"director_uuid {uuid} is not the target director's {target_uuid}"))
    if ("release" in m) == ("releases" in m):
        out.append(Problem("releases", "give exactly one of release and releases"))
    releases = m.get("releases") or ([m["release"]] if isinstance(m.get("release"), dict) else [])
    _update_problems(m.get("update") or {}, out)
    networks, statics = _network_problems(m, out)
    pools = _pool_problems(m, networks, out)
    _job_problems(m, [r.get("name") for r in releases], networks, statics, pools, out)
    return out


def _update_problems(upd: dict, out: list[Problem]) -> None:
    if not _int(upd.get("canaries"), 0):
        out.append(Problem("update.canaries", f"canaries {upd.get('canaries')!r} must be an integer"))
    if not _int(upd.get("max_in_flight"), 1):
        out.append(
            Problem("update.max_in_flight", f"max_in_flight {upd.get('max_in_flight')!r} must be an integer >= 1")
        )
    for key in ("canary_watch_time", "update_watch_time"):
        if not _watch(upd.get(key)):
            out.append(Problem(f"update.{key}", f"{key} {upd.get(key)!r} must be N or MIN-MAX with MIN <= MAX"))


def _network_problems(m: dict, out: list[Problem]) -> tuple[dict[str, dict], dict[str, set[Address]]]:
    """Checks ``networks``; returns them by name, and each manual network's static addresses."""
    networks: dict[str, dict] = {}
    static_by_net: dict[str, set[Address]] = {}
    all_ranges: list[tuple[str, ipaddress.IPv4Network]] = []
    for i, n in enumerate(m.get("networks") or []):
        p = f"networks[{i}]"
        if n.get("name") in networks:
            out.append(Problem(f"{p}.name", f"network {n.get('name')!r} is defined twice"))
        networks[n.get("name")] = n
        ntype = n.get("type", "manual")
        if ntype not in NETWORK_TYPES:
            out.append(Problem(f"{p}.type", f"network type {ntype!r} is not one of {', '.join(NETWORK_TYPES)}"))
        if ntype == "manual":
            statics: set[Address] = set()
            for j, s in enumerate(n.get("subnets") or []):
                statics |= _subnet(f"{p}.subnets[{j}]", s, all_ranges, out)
            static_by_net[n.get("name")] = statics
    return networks, static_by_net


def _subnet(q: str, s: dict, all_ranges: list[tuple[str, ipaddress.IPv4Network]], out: list[Problem]) -> set[Address]:
    """Checks one manual subnet (its range against the ranges seen so far); returns its static addresses."""
    rng = subnet_problems(q, s, out)
    if rng is not None:
        for other_path, other in all_ranges:
            if rng.overlaps(other):
                out.append(Problem(f"{q}.range", f"range {rng} overlaps {other} ({other_path})"))
        all_ranges.append((q, rng))
    static = _ranges_of(s.get("static"), f"{q}.static", rng, out)
    reserved = _ranges_of(s.get("reserved"), f"{q}.reserved", rng, out)
    both = sorted(static & reserved)
    if both:
        out.append(Problem(f"{q}.static", f"static and reserved share {', '.join(map(str, both[:5]))}"))
    return static


def _pool_problems(m: dict, networks: dict[str, dict], out: list[Problem]) -> set:
    """Checks ``compilation`` and ``resource_pools``; returns the pools' names."""
    comp = m.get("compilation") or {}
    if not _int(comp.get("workers"), 1):
        out.append(Problem("compilation.workers", f"workers {comp.get('workers')!r} must be an integer >= 1"))
    if comp.get("network") not in networks:
        out.append(Problem("compilation.network", f"network {comp.get('network')!r} is not defined"))
    pools = set()
    for i, rp in enumerate(m.get("resource_pools") or []):
        pools.add(rp.get("name"))
        if rp.get("network") not in networks:
            out.append(Problem(f"resource_pools[{i}].network", f"network {rp.get('network')!r} is not defined"))
        sc = rp.get("stemcell") or {}
        if not sc.get("name") or not sc.get("version"):
            out.append(Problem(f"resource_pools[{i}].stemcell", "stemcell name and version are required"))
    return pools


def _job_problems(
    m: dict,
    release_names: list[Any],
    networks: dict[str, dict],
    statics: dict[str, set[Address]],
    pools: set,
    out: list[Problem],
) -> None:
    used: dict[Address, str] = {}
    job_names: Counter[str] = Counter(j.get("name") for j in m.get("jobs") or [])
    for i, job in enumerate(m.get("jobs") or []):
        p = f"jobs[{i}]"
        if job_names[job.get("name")] > 1:
            out.append(Problem(f"{p}.name", f"job name {job.get('name')!r} is used twice"))
        if ("template" in job) == ("templates" in job):
            out.append(Problem(p, "give exactly one of template and templates"))
        for j, t in enumerate(job.get("templates") or []):
            if isinstance(t, dict) and t.get("release") is not None and t["release"] not in release_names:
                out.append(Problem(f"{p}.templates[{j}].release", f"release {t['release']!r} is not in releases"))
        if job.get("resource_pool") not in pools:
            out.append(Problem(f"{p}.resource_pool", f"resource pool {job.get('resource_pool')!r} is not defined"))
        if "persistent_disk" in job and "persistent_disk_pool" in job:
            out.append(Problem(p, "give persistent_disk or persistent_disk_pool, not both"))
        if not _int(job.get("instances"), 0):
            out.append(Problem(f"{p}.instances", f"instances {job.get('instances')!r} must be an integer >= 0"))
        for j, jn in enumerate(job.get("networks") or []):
            _job_network(f"{p}.networks[{j}]", job, jn, networks, statics, used, out)


def _job_network(
    q: str,
    job: dict,
    jn: dict,
    networks: dict[str, dict],
    statics: dict[str, set[Address]],
    used: dict[Address, str],
    out: list[Problem],
) -> None:
    """One network of a job: defined, and its static IPs (one per instance) in its static range, used once."""
    net = networks.get(jn.get("name"))
    if net is None:
        out.append(Problem(f"{q}.name", f"network {jn.get('name')!r} is not defined"))
        return
    sips, inst = jn.get("static_ips"), job.get("instances")
    if sips is None:
        return
    if _int(inst, 0) and len(sips) != inst:
        out.append(Problem(f"{q}.static_ips", f"{len(sips)} static IPs for {inst} instances"))
    for k, sip in enumerate(sips):
        addr = ip(sip)
        if addr is None:
            out.append(Problem(f"{q}.static_ips[{k}]", f"static IP {sip!r} is not an IPv4 address"))
            continue
        if net.get("type", "manual") == "manual" and addr not in statics.get(jn["name"], set()):
            out.append(Problem(f"{q}.static_ips[{k}]", f"static IP {addr} is not in the network's static range"))
        if addr in used:
            out.append(Problem(f"{q}.static_ips[{k}]", f"static IP {addr} is also used by job {used[addr]}"))
        used[addr] = job.get("name")
