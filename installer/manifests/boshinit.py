"""bosh-init 0.0.81's rules for the MicroBOSH manifest (DESIGN.md), applied to the rendered manifest.

``bosh_init_problems(manifest)`` returns every violation as a ``Problem`` whose ``where`` is the
manifest key path (``networks[0].subnets[0].gateway``); ``installer.manifests.check`` maps it back
to the site field the value came from.  The manifest is only read, never changed.
``subnet_problems`` (range and gateway of a manual network's subnet) is shared with the director's
rules (``installer.manifests.director``).  Imports ``bundler.core.problems`` and the site's
address parsing.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from typing import Any

from bundler.core.problems import Problem
from installer.site.addresses import ip

URL_SCHEMES = ("file://", "http://", "https://")
NETWORK_TYPES = ("manual", "dynamic", "vip")
Ranges = dict[str, list[ipaddress.IPv4Network]]  # manual network name -> its subnets' ranges


def subnet_problems(path: str, subnet: dict, out: list[Problem]) -> ipaddress.IPv4Network | None:
    """A subnet's ``range`` must be a CIDR and its ``gateway`` a host inside it; returns the range."""
    try:
        rng = ipaddress.IPv4Network(str(subnet.get("range")), strict=True)
    except ValueError:
        out.append(Problem(f"{path}.range", f"range {subnet.get('range')!r} is not a CIDR"))
        return None
    gw = ip(subnet.get("gateway"))
    if gw is None:
        out.append(Problem(f"{path}.gateway", f"gateway {subnet.get('gateway')!r} is not an IPv4 address"))
    elif gw not in rng:
        out.append(Problem(f"{path}.gateway", f"gateway {gw} is not inside range {rng}"))
    elif gw in (rng.network_address, rng.broadcast_address):
        out.append(Problem(f"{path}.gateway", f"gateway {gw} is the network or broadcast address of {rng}"))
    return rng


def _url_problems(path: str, item: dict, out: list[Problem]) -> None:
    url = item.get("url")
    if not isinstance(url, str) or not url.startswith(URL_SCHEMES):
        out.append(Problem(f"{path}.url", f"url {url!r} must start with file://, http:// or https://"))
    elif url.startswith(("http://", "https://")) and not item.get("sha1"):
        out.append(Problem(f"{path}.sha1", "a release or stemcell fetched over http needs a sha1"))
    elif url.startswith("file://") and not item.get("sha1"):
        out.append(Problem(f"{path}.sha1", "no sha1: bosh-init does not check file:// artifacts, so we require one"))


def bosh_init_problems(m: Any) -> list[Problem]:
    """bosh-init 0.0.81's manifest rules (DESIGN.md), each with its manifest key path."""
    if not isinstance(m, dict):
        return [Problem("", "the manifest is not a mapping")]
    out: list[Problem] = []
    if not m.get("name"):
        out.append(Problem("name", "name is required"))
    names = _release_problems(m, out)
    networks, ranges = _network_problems(m, out)
    pools = _pool_problems(m, networks, out)
    _job_problems(m, names, networks, ranges, pools, out)
    cp = m.get("cloud_provider") or {}
    tmpl = cp.get("template") or {}
    if not tmpl.get("name"):
        out.append(Problem("cloud_provider.template.name", "the CPI job name is required"))
    if tmpl.get("release") not in names:
        out.append(Problem("cloud_provider.template.release", f"release {tmpl.get('release')!r} is not in releases"))
    if not cp.get("mbus"):
        out.append(Problem("cloud_provider.mbus", "mbus URL is required"))
    return out


def _release_problems(m: dict, out: list[Problem]) -> list[Any]:
    """Checks ``releases``; returns their names."""
    releases = m.get("releases") or []
    if not releases:
        out.append(Problem("releases", "at least one release is required"))
    names = [r.get("name") for r in releases if isinstance(r, dict)]
    for i, r in enumerate(releases):
        if not isinstance(r, dict) or not r.get("name"):
            out.append(Problem(f"releases[{i}].name", "release name is required"))
            continue
        if names.count(r["name"]) > 1 and names.index(r["name"]) == i:
            out.append(Problem(f"releases[{i}].name", f"release {r['name']!r} is listed twice"))
        _url_problems(f"releases[{i}]", r, out)
    return names


def _network_problems(m: dict, out: list[Problem]) -> tuple[dict[str, dict], Ranges]:
    """Checks ``networks``; returns them by name, and the ranges of each manual network's subnets."""
    networks: dict[str, dict] = {}
    ranges: Ranges = {}
    for i, n in enumerate(m.get("networks") or []):
        p = f"networks[{i}]"
        if n.get("type") not in NETWORK_TYPES:
            out.append(Problem(f"{p}.type", f"network type {n.get('type')!r} is not one of {', '.join(NETWORK_TYPES)}"))
        networks[n.get("name")] = n
        if n.get("type") != "manual":
            continue
        subnets = n.get("subnets") or []
        if len(subnets) != 1:
            out.append(Problem(f"{p}.subnets", f"a manual network needs exactly one subnet, found {len(subnets)}"))
        found = [subnet_problems(f"{p}.subnets[{j}]", s, out) for j, s in enumerate(subnets)]
        ranges[n.get("name")] = [r for r in found if r is not None]
    return networks, ranges


def _pool_problems(m: dict, networks: dict[str, dict], out: list[Problem]) -> tuple[set, set]:
    """Checks resource and disk pools; returns their names."""
    pools = set()
    for i, rp in enumerate(m.get("resource_pools") or []):
        pools.add(rp.get("name"))
        if rp.get("network") not in networks:
            out.append(Problem(f"resource_pools[{i}].network", f"network {rp.get('network')!r} is not defined"))
        _url_problems(f"resource_pools[{i}].stemcell", rp.get("stemcell") or {}, out)
    disk_pools = set()
    for i, dp in enumerate(m.get("disk_pools") or []):
        disk_pools.add(dp.get("name"))
        size = dp.get("disk_size")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            out.append(Problem(f"disk_pools[{i}].disk_size", f"disk_size {size!r} must be an integer > 0"))
    return pools, disk_pools


def _job_problems(
    m: dict, names: list[Any], networks: dict[str, dict], ranges: Ranges, pools: tuple[set, set], out: list[Problem]
) -> None:
    resource_pools, disk_pools = pools
    jobs = m.get("jobs") or []
    if len(jobs) != 1:
        out.append(Problem("jobs", f"bosh-init deploys exactly one job, found {len(jobs)}"))
    for i, job in enumerate(jobs):
        p = f"jobs[{i}]"
        inst = job.get("instances")
        if not isinstance(inst, int) or isinstance(inst, bool) or inst < 0:
            out.append(Problem(f"{p}.instances", f"instances {inst!r} must be an integer >= 0"))
        if job.get("resource_pool") not in resource_pools:
            out.append(Problem(f"{p}.resource_pool", f"resource pool {job.get('resource_pool')!r} is not defined"))
        if job.get("persistent_disk_pool") is not None and job["persistent_disk_pool"] not in disk_pools:
            out.append(
                Problem(f"{p}.persistent_disk_pool", f"disk pool {job['persistent_disk_pool']!r} is not defined")
            )
        for j, t in enumerate(job.get("templates") or []):
            if t.get("release") not in names:
                out.append(Problem(f"{p}.templates[{j}].release", f"release {t.get('release')!r} is not in releases"))
        _job_network_problems(p, job, networks, ranges, out)


def _job_network_problems(p: str, job: dict, networks: dict[str, dict], ranges: Ranges, out: list[Problem]) -> None:
    defaults: Counter[str] = Counter()
    jnets = job.get("networks") or []
    for j, jn in enumerate(jnets):
        q = f"{p}.networks[{j}]"
        net = networks.get(jn.get("name"))
        if net is None:
            out.append(Problem(f"{q}.name", f"network {jn.get('name')!r} is not defined"))
            continue
        for d in jn.get("default") or []:
            if d not in ("dns", "gateway"):
                out.append(Problem(f"{q}.default", f"default may only list dns and gateway, not {d!r}"))
            defaults[d] += 1
        subnet_ranges = ranges.get(jn.get("name"), [])
        for k, sip in enumerate(jn.get("static_ips") or []):
            addr = ip(sip)
            if addr is None:
                out.append(Problem(f"{q}.static_ips[{k}]", f"static IP {sip!r} is not an IPv4 address"))
            elif net.get("type") == "manual" and subnet_ranges and not any(addr in r for r in subnet_ranges):
                out.append(
                    Problem(f"{q}.static_ips[{k}]", f"static IP {addr} is not inside the subnet {subnet_ranges[0]}")
                )
    if len(jnets) > 1 and (defaults["dns"] != 1 or defaults["gateway"] != 1):
        out.append(Problem(f"{p}.networks", "exactly one network must be the default for dns and gateway"))
