"""bosh-init 0.0.81's rules for the MicroBOSH manifest (DESIGN.md), applied to the rendered manifest.

``bosh_init_problems(manifest)`` returns every violation as a ``Problem`` whose ``where`` is the
manifest key path (``networks[0].subnets[0].gateway``); ``installer.manifests.check`` maps it back
to the site field the value came from.  The manifest is only read, never changed.  The rules are
those of bosh-init's own validators (deployment/manifest, installation/manifest, release/set/manifest:
names not blank, ``persistent_disk`` >= 0, ``lifecycle`` only ``service``, a template named once
per job, a job on at least one network, …), checked row by row against the real bosh-init in
tests/agreement/test_real_bosh_init.py, where a few rules of ours are stricter (each row says why).
What needs the releases' contents is ``installer.manifests.releases``'.
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
    value = subnet.get("range")
    try:
        if _blank(value) or "/" not in str(value):
            raise ValueError(value)
        rng = ipaddress.IPv4Network(str(value), strict=True)
    except ValueError:
        out.append(Problem(f"{path}.range", _range_problem(value)))
        return None
    gw = ip(subnet.get("gateway"))
    if _blank(subnet.get("gateway")):
        out.append(Problem(f"{path}.gateway", "gateway is required"))
    elif gw is None:
        out.append(Problem(f"{path}.gateway", f"gateway {subnet.get('gateway')!r} is not an IPv4 address"))
    elif gw not in rng:
        out.append(Problem(f"{path}.gateway", f"gateway {gw} is not inside range {rng}"))
    elif gw in (rng.network_address, rng.broadcast_address):
        out.append(Problem(f"{path}.gateway", f"gateway {gw} is the network or broadcast address of {rng}"))
    return rng


def _range_problem(value: Any) -> str:
    """Why ``value`` is not a subnet range; one with host bits set names the network it is inside."""
    if _blank(value):
        return "range is required (a CIDR such as 10.0.0.0/24)"
    try:
        network = ipaddress.IPv4Network(str(value), strict=False)
    except ValueError:
        return f"range {value!r} is not a CIDR such as 10.0.0.0/24"
    if "/" in str(value):
        return f"range {value!r} has host bits set; use {network}"
    return f"range {value!r} is an address, not a CIDR such as {network.supernet(new_prefix=24)}"


def _blank(value: Any) -> bool:
    """bosh-init's ``isBlank``: absent, empty or only spaces."""
    return value is None or not str(value).strip()


def _undefined(what: str, value: Any, missing: str = "is not defined") -> str:
    """``network 'x' is not defined``, or ``network is required`` when none is given."""
    return f"{what} is required" if _blank(value) else f"{what} {value!r} {missing}"


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
    if _blank(m.get("name")):
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
        out.append(
            Problem("cloud_provider.template.release", _undefined("release", tmpl.get("release"), "is not in releases"))
        )
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
        if _blank(n.get("name")):
            out.append(Problem(f"{p}.name", "network name is required"))
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
        if _blank(rp.get("name")):
            out.append(Problem(f"resource_pools[{i}].name", "resource pool name is required"))
        if rp.get("network") not in networks:
            out.append(Problem(f"resource_pools[{i}].network", _undefined("network", rp.get("network"))))
        _url_problems(f"resource_pools[{i}].stemcell", rp.get("stemcell") or {}, out)
    disk_pools = set()
    for i, dp in enumerate(m.get("disk_pools") or []):
        disk_pools.add(dp.get("name"))
        if _blank(dp.get("name")):
            out.append(Problem(f"disk_pools[{i}].name", "disk pool name is required"))
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
        if _blank(job.get("name")):
            out.append(Problem(f"{p}.name", "job name is required"))
        inst = job.get("instances")
        if not _integer(inst, 0):
            out.append(Problem(f"{p}.instances", f"instances {inst!r} must be an integer >= 0"))
        disk = job.get("persistent_disk")
        if disk is not None and not _integer(disk, 0):
            out.append(Problem(f"{p}.persistent_disk", f"persistent_disk {disk!r} must be an integer >= 0 (MB)"))
        if job.get("lifecycle") not in (None, "", "service"):
            out.append(
                Problem(f"{p}.lifecycle", f"lifecycle {job['lifecycle']!r} is not supported: bosh-init runs a service")
            )
        if job.get("resource_pool") not in resource_pools:
            out.append(Problem(f"{p}.resource_pool", _undefined("resource pool", job.get("resource_pool"))))
        if job.get("persistent_disk_pool") is not None and job["persistent_disk_pool"] not in disk_pools:
            out.append(
                Problem(f"{p}.persistent_disk_pool", f"disk pool {job['persistent_disk_pool']!r} is not defined")
            )
        _template_problems(p, job.get("templates") or [], names, out)
        _job_network_problems(p, job, networks, ranges, out)


def _integer(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _template_problems(p: str, templates: list, names: list[Any], out: list[Problem]) -> None:
    """Each template has a name, used once in the job, and a release of ``releases``."""
    seen: set[Any] = set()
    for j, t in enumerate(templates):
        q = f"{p}.templates[{j}]"
        if _blank(t.get("name")):
            out.append(Problem(f"{q}.name", "template name is required"))
        elif t["name"] in seen:
            out.append(Problem(f"{q}.name", f"template {t['name']!r} is listed twice in the job"))
        seen.add(t.get("name"))
        if t.get("release") not in names:
            out.append(Problem(f"{q}.release", _undefined("release", t.get("release"), "is not in releases")))


def _job_network_problems(p: str, job: dict, networks: dict[str, dict], ranges: Ranges, out: list[Problem]) -> None:
    defaults: Counter[str] = Counter()
    jnets = job.get("networks") or []
    if not jnets:
        out.append(Problem(f"{p}.networks", "the job needs at least one network"))
    for j, jn in enumerate(jnets):
        q = f"{p}.networks[{j}]"
        net = networks.get(jn.get("name"))
        if net is None:
            out.append(Problem(f"{q}.name", _undefined("network", jn.get("name"))))
            continue
        for k, d in enumerate(jn.get("default") or []):
            if d not in ("dns", "gateway"):
                out.append(Problem(f"{q}.default[{k}]", f"default may only list dns and gateway, not {d!r}"))
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
