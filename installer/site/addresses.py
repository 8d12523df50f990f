"""The site's addresses: the subnet, AWS's reserved addresses, reserved ranges and the BOSH jobs' static IPs.

Arithmetic only, no judgement (the site rules judge, the manifests render): ``parse_range`` reads
``10.0.0.2-10.0.0.9`` (or one address), ``aws_reserved`` is what AWS keeps in every subnet (its
first four addresses and the last), ``bosh_static_ips`` gives the seven BOSH jobs their addresses
in ``BOSH_JOBS`` order (the site's ``bosh.static_ips``, or the first free ones of the subnet), and
``bosh_reserved`` the ranges the BOSH director must not hand out (the site's plus MicroBOSH's own
address).  Imports the site model.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from installer.site.model import BoshSettings, Site

# The BOSH v1 jobs, in the order their static IPs are taken from ``bosh.static_ips``.
BOSH_JOBS = ("postgres", "nats", "redis", "blobstore", "registry", "director", "health_monitor")
DIRECTOR_JOB_INDEX = BOSH_JOBS.index("director")
MAX_RANGE = 65536  # a reserved range is expanded into addresses only up to this size


def ip(value: Any) -> ipaddress.IPv4Address | None:
    """``value`` as an IPv4 address; None when it is empty or not one."""
    if value is None or value == "":
        return None
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError:
        return None


def parse_range(text: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    """``10.0.0.2-10.0.0.9``, ``10.0.0.2 - 10.0.0.9`` or one address; ValueError if malformed."""
    first, sep, last = str(text).partition("-")
    a = ipaddress.IPv4Address(first.strip())
    b = ipaddress.IPv4Address(last.strip()) if sep else a
    if b < a:
        raise ValueError(f"{text!r}: the range ends before it starts")
    return a, b


def network_of(site: Site) -> ipaddress.IPv4Network | None:
    """``network.cidr`` as a network; None when it is not one in strict CIDR form."""
    try:
        return ipaddress.IPv4Network(site.network.cidr, strict=True)
    except (ValueError, TypeError):
        return None


def aws_reserved(net: ipaddress.IPv4Network) -> set[ipaddress.IPv4Address]:
    """AWS keeps the first four addresses of a subnet and its last one."""
    return {net.network_address + i for i in range(4)} | {net.broadcast_address}


def reserved_addresses(site: Site) -> set[ipaddress.IPv4Address]:
    """Every address inside ``network.reserved`` (malformed or huge entries are left out)."""
    out: set[ipaddress.IPv4Address] = set()
    for entry in site.network.reserved:
        try:
            a, b = parse_range(entry)
        except ValueError:
            continue
        if int(b) - int(a) > MAX_RANGE:
            continue
        out.update(ipaddress.IPv4Address(i) for i in range(int(a), int(b) + 1))
    return out


def bosh_static_ips(site: Site) -> tuple[str, ...]:
    """The site's ``bosh.static_ips`` or, if empty, the first free addresses of the subnet in job order."""
    bosh = site.bosh or BoshSettings()
    if bosh.static_ips:
        return bosh.static_ips
    net = network_of(site)
    if net is None:
        return ()
    taken = aws_reserved(net) | reserved_addresses(site)
    taken |= {a for a in (ip(site.network.gateway), ip(site.microbosh.static_ip)) if a}
    taken |= {a for a in map(ip, site.network.dns) if a}
    free: list[str] = []
    for host in net.hosts():
        if host not in taken:
            free.append(str(host))
            if len(free) == len(BOSH_JOBS):
                break
    return tuple(free)


def bosh_reserved(site: Site) -> list[str]:
    """The site's reserved ranges plus MicroBOSH's address, which the BOSH director must not hand out."""
    out = [_spaced(r) for r in site.network.reserved]
    mb = ip(site.microbosh.static_ip)
    if mb is not None and mb not in reserved_addresses(site):
        out.append(str(mb))
    return out


def _spaced(entry: str) -> str:
    first, sep, last = str(entry).partition("-")
    return f"{first.strip()} - {last.strip()}" if sep else first.strip()
