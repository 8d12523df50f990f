"""The site file's rules: what can be decided about ``site.yml`` without asking AWS.

``site_problems`` checks the site's values against AWS's rules and the guide's troubleshooting
section, collecting every problem: an availability zone given as the region, a region the light
stemcell has no AMI for, an HVM stemcell with a T1/C1/M1/M2 instance type, static IPs outside the
subnet, on AWS's reserved addresses or colliding with each other, the private key missing or
readable by others, …  Each problem is a ``Problem`` whose ``where`` is a site field
(``microbosh.static_ip``); the manifests' checker renders it with the site file's line.

The groups the AWS side asks for on their own: ``name_problems`` (region and zone names, for
``aws prepare``), ``secret_file_problems``, ``key_problems``, ``subnet_id_problems`` and
``instance_type_problems`` (the AWS preflight reports these instead of deciding them again).
Imports the site model, its addresses and credentials, the lock, ``bundler.core.awsnames`` and
``bundler.core.problems``.
"""

from __future__ import annotations

import ipaddress
import stat
from collections import Counter
from collections.abc import Sequence

from bundler.core.awsnames import (
    instance_family,
    is_pv_only,
    is_region,
    is_subnet_id,
    region_of_zone,
    stemcell_virtualization,
)
from bundler.core.lock import Artifact, Lock
from bundler.core.problems import Problem
from installer.site.addresses import BOSH_JOBS, aws_reserved, bosh_static_ips, ip, parse_range, reserved_addresses
from installer.site.credentials import missing_credentials, site_credentials
from installer.site.model import BoshSettings, Site

Network = ipaddress.IPv4Network | None


def site_problems(site: Site, lock: Lock | None, kinds: Sequence[str] = ("microbosh", "bosh")) -> list[Problem]:
    """Every problem of the site file, for the deployments ``kinds``."""
    light, regular = _stemcells(lock)
    out = name_problems(site) + _ami_problems(site, light)
    if site_credentials(site) is None:
        out.append(Problem("aws.profile", missing_credentials(site)))
    out += secret_file_problems(site)
    net = _check_network(site, out)
    out += key_problems(site)
    _check_microbosh(site, net, light, out)
    if "bosh" in kinds:
        _check_bosh(site, net, regular, out)
    if not site.ntp:
        out.append(Problem("ntp", "give at least one NTP server (the VMs need a correct clock)"))
    return out


def _stemcells(lock: Lock | None) -> tuple[Artifact | None, Artifact | None]:
    """MicroBOSH boots the light stemcell, the BOSH deployment the regular one."""
    return (lock.stemcell("light"), lock.stemcell("regular")) if lock is not None else (None, None)


# ---------------------------------------------------------------- aws


def name_problems(site: Site) -> list[Problem]:
    """``aws.region`` must be a region and ``aws.availability_zone`` one of its zones."""
    region, az = site.aws.region or "", site.aws.availability_zone or ""
    out = []
    zone_region = region_of_zone(region)
    if zone_region:
        out.append(
            Problem(
                "aws.region",
                f"{region!r} is an availability zone, not a region: use {zone_region!r} here "
                f"(and {region!r} as aws.availability_zone); the CPI would fail with "
                f"'Stemcell does not contain an AMI for this region ({region})'",
            )
        )
    elif not is_region(region):
        out.append(Problem("aws.region", f"{region!r} is not an AWS region name such as us-east-1"))
    az_region = region_of_zone(az)
    if is_region(az):
        out.append(
            Problem(
                "aws.availability_zone", f"{az!r} is a region; an availability zone is the region and a letter: {az}a"
            )
        )
    elif az_region is None:
        out.append(Problem("aws.availability_zone", f"{az!r} is not an availability zone name such as us-east-1a"))
    elif is_region(region) and az_region != region:
        out.append(Problem("aws.availability_zone", f"{az!r} is in region {az_region}, not in aws.region {region}"))
    return out


def _ami_problems(site: Site, light: Artifact | None) -> list[Problem]:
    region = site.aws.region or ""
    if light is None or not is_region(region):
        return []
    amis = light.meta.get("ami") or {}
    if region in amis:
        return []
    have = ", ".join(sorted(amis)) or "none"
    return [
        Problem(
            "aws.region",
            f"the light stemcell {light.name} {light.version} has no AMI for {region} (it has: {have}); "
            "the CPI would fail with 'Stemcell does not contain an AMI for this region'",
        )
    ]


def secret_file_problems(site: Site) -> list[Problem]:
    """A site file holding an AWS secret key must be readable by its owner only."""
    if not site.aws.secret_access_key:
        return []
    mode = stat.S_IMODE(site.path.stat().st_mode)
    if not mode & 0o077:
        return []
    return [
        Problem(
            "aws.secret_access_key",
            f"{site.path} holds an AWS secret key but has mode {mode:04o}: run chmod 600 {site.path}, "
            "or use aws.profile instead",
        )
    ]


# ---------------------------------------------------------------- network


def subnet_id_problems(site: Site) -> list[Problem]:
    subnet_id = site.network.subnet_id
    if not subnet_id:
        return [
            Problem(
                "network.subnet_id",
                f"{subnet_id!r} is not a subnet id such as subnet-e8d03a9e "
                "(run 'bosh-install aws prepare' to create the subnet, or fill it in)",
            )
        ]
    if not is_subnet_id(subnet_id):
        return [Problem("network.subnet_id", f"{subnet_id!r} is not a subnet id such as subnet-e8d03a9e")]
    return []


def _check_network(site: Site, out: list[Problem]) -> Network:
    n = site.network
    try:
        net = ipaddress.IPv4Network(n.cidr, strict=True)
    except (ValueError, TypeError):
        out.append(Problem("network.cidr", f"{n.cidr!r} is not an IPv4 network in CIDR form such as 10.0.0.0/24"))
        return None
    if not 16 <= net.prefixlen <= 28:
        out.append(
            Problem("network.cidr", f"{net} has a /{net.prefixlen} prefix; an AWS subnet is between /16 and /28")
        )
    out += subnet_id_problems(site)
    _check_gateway_and_dns(site, net, out)
    for i, entry in enumerate(n.reserved):
        try:
            a, b = parse_range(entry)
        except ValueError as exc:
            out.append(Problem(f"network.reserved[{i}]", f"{entry!r} is not an address or a range A-B ({exc})"))
            continue
        if a not in net or b not in net:
            out.append(Problem(f"network.reserved[{i}]", f"{entry} is outside network.cidr {net}"))
    if (n.security_group or "").startswith("sg-"):
        out.append(
            Problem(
                "network.security_group",
                f"{n.security_group!r} is a group id; give the group's name (default_security_groups takes names)",
            )
        )
    elif not n.security_group:
        out.append(Problem("network.security_group", "give the security group's name"))
    try:
        ipaddress.IPv4Network(n.operator_cidr, strict=False)
    except (ValueError, TypeError):
        out.append(Problem("network.operator_cidr", f"{n.operator_cidr!r} is not a network such as 203.0.113.7/32"))
    return net


def _check_gateway_and_dns(site: Site, net: ipaddress.IPv4Network, out: list[Problem]) -> None:
    n = site.network
    gw = ip(n.gateway)
    if gw is None:
        out.append(Problem("network.gateway", f"{n.gateway!r} is not an IPv4 address"))
    elif gw not in net:
        out.append(Problem("network.gateway", f"{gw} is outside network.cidr {net}"))
    elif gw in (net.network_address, net.broadcast_address):
        out.append(
            Problem("network.gateway", f"{gw} is the network or broadcast address of {net}; AWS's gateway is {net[1]}")
        )
    for i, d in enumerate(n.dns):
        if ip(d) is None:
            out.append(Problem(f"network.dns[{i}]", f"{d!r} is not an IPv4 address"))
    if not n.dns:
        out.append(Problem("network.dns", f"give at least one DNS server (the VPC resolver is {net[2]})"))


def _host_address(
    where: str, value: str | None, net: Network, site: Site, out: list[Problem]
) -> ipaddress.IPv4Address | None:
    addr = ip(value)
    if addr is None:
        out.append(Problem(where, f"{value!r} is not an IPv4 address"))
        return None
    if net is None:
        return addr
    if addr not in net:
        out.append(Problem(where, f"{addr} is outside network.cidr {net}"))
    elif addr in aws_reserved(net):
        out.append(Problem(where, f"{addr} is reserved by AWS in {net} (its first four addresses and the last)"))
    elif addr == ip(site.network.gateway) or addr in {ip(d) for d in site.network.dns}:
        out.append(Problem(where, f"{addr} is the subnet's gateway or DNS server"))
    return addr


def _public_address(where: str, value: str, net: Network, out: list[Problem]) -> ipaddress.IPv4Address | None:
    addr = ip(value)
    if addr is None:
        out.append(Problem(where, f"{value!r} is not an IPv4 address"))
    elif net is not None and addr in net:
        out.append(
            Problem(where, f"{addr} is inside the private network.cidr {net}; an elastic IP is a public address")
        )
    elif (addr.is_private and not addr.is_loopback) or addr.is_unspecified:  # loopback: test replicas of AWS
        out.append(
            Problem(where, f"{addr} is not a public address; an elastic IP is allocated by AWS (EC2 > Elastic IPs)")
        )
    return addr


# ---------------------------------------------------------------- key pair


def key_problems(site: Site) -> list[Problem]:
    """The key pair's name, and its private key: a PEM file only its owner can read."""
    kp = site.key_pair
    out = [] if kp.name else [Problem("key_pair.name", "give the name of the EC2 key pair")]
    path, where = kp.private_key, "key_pair.private_key"
    try:
        st = path.stat()
    except FileNotFoundError:
        return [*out, Problem(where, f"{path} does not exist; save the key pair's .pem file there")]
    except OSError as exc:
        return [*out, Problem(where, f"{path}: cannot read ({exc.strerror})")]
    if not stat.S_ISREG(st.st_mode):
        return [*out, Problem(where, f"{path} is not a file")]
    mode = st.st_mode & 0o777
    if mode not in (0o400, 0o600):
        out.append(Problem(where, f"{path} has mode {mode:04o}; ssh refuses it: run chmod 400 {path}"))
    try:
        head = path.read_text(encoding="ascii", errors="replace")[:4096]
    except OSError as exc:
        return [*out, Problem(where, f"{path}: cannot read ({exc.strerror})")]
    if "PRIVATE KEY-----" not in head:
        out.append(Problem(where, f"{path} is not a PEM private key (no 'BEGIN … PRIVATE KEY' line)"))
    return out


# ---------------------------------------------------------------- instance types


def instance_type_problems(site: Site, lock: Lock | None, with_bosh: bool = True) -> list[Problem]:
    """Each instance type must be one, and able to boot the stemcell its deployment uses."""
    light, regular = _stemcells(lock)
    out: list[Problem] = []
    _instance_type("microbosh.instance_type", site.microbosh.instance_type, light, out)
    if with_bosh:
        _bosh_instance_types(site.bosh or BoshSettings(), regular, out)
    return out


def _instance_type(where: str, value: str, stemcell: Artifact | None, out: list[Problem]) -> None:
    if instance_family(value) is None:
        out.append(Problem(where, f"{value!r} is not an EC2 instance type such as m3.xlarge"))
        return
    if stemcell is not None and stemcell_virtualization(stemcell.name) == "hvm" and is_pv_only(value):
        out.append(
            Problem(
                where,
                f"{value} cannot run the HVM stemcell {stemcell.name} (T1, C1, M1 and M2 types are PV only; AWS "
                "says 'Non-Windows instances with a virtualization type of hvm are currently not supported for "
                "this instance type'): use m3/c3/m4/c4 or newer",
            )
        )


def _bosh_instance_types(bosh: BoshSettings, regular: Artifact | None, out: list[Problem]) -> None:
    _instance_type("bosh.instance_type", bosh.instance_type, regular, out)
    if bosh.director_instance_type is not None:
        _instance_type("bosh.director_instance_type", bosh.director_instance_type, regular, out)
    _instance_type("bosh.compilation_instance_type", bosh.compilation_instance_type, regular, out)


# ---------------------------------------------------------------- the deployments


def _check_microbosh(site: Site, net: Network, light: Artifact | None, out: list[Problem]) -> None:
    mb = site.microbosh
    _host_address("microbosh.static_ip", mb.static_ip, net, site, out)
    if mb.elastic_ip is not None:
        _public_address("microbosh.elastic_ip", mb.elastic_ip, net, out)
    _instance_type("microbosh.instance_type", mb.instance_type, light, out)
    if mb.disk_size is None or mb.disk_size <= 0:
        out.append(Problem("microbosh.disk_size", f"{mb.disk_size!r}: the persistent disk size must be > 0 (MB)"))
    elif mb.disk_size < 1024:
        out.append(
            Problem("microbosh.disk_size", f"{mb.disk_size} MB is too small for the director's database and blobs")
        )
    if not mb.director_name:
        out.append(Problem("microbosh.director_name", "give the director a name"))


def _check_bosh(site: Site, net: Network, regular: Artifact | None, out: list[Problem]) -> None:
    bosh = site.bosh or BoshSettings()
    ips = bosh_static_ips(site)
    _check_bosh_static_ips(site, net, ips, out)
    if bosh.elastic_ip is not None:
        eip = _public_address("bosh.elastic_ip", bosh.elastic_ip, net, out)
        if eip is not None and eip == ip(site.microbosh.elastic_ip):
            out.append(
                Problem("bosh.elastic_ip", f"{eip} is MicroBOSH's microbosh.elastic_ip; allocate another elastic IP")
            )
    _bosh_instance_types(bosh, regular, out)
    _check_compilation_workers(site, net, bosh, ips, out)
    if not bosh.director_name:
        out.append(Problem("bosh.director_name", "give the director a name"))


def _check_bosh_static_ips(site: Site, net: Network, ips: tuple[str, ...], out: list[Problem]) -> None:
    given = bool((site.bosh or BoshSettings()).static_ips)
    if len(ips) != len(BOSH_JOBS):
        if given:
            out.append(
                Problem(
                    "bosh.static_ips",
                    f"give {len(BOSH_JOBS)} addresses, one per job in this order: {', '.join(BOSH_JOBS)}",
                )
            )
        elif net is not None:
            out.append(Problem("network.cidr", f"{net} has too few free addresses for the {len(BOSH_JOBS)} BOSH jobs"))
    reserved = reserved_addresses(site)
    mb_ip = ip(site.microbosh.static_ip)
    seen: Counter[str] = Counter(ips)
    for i, value in enumerate(ips):
        where = f"bosh.static_ips[{i}]" if given else "bosh.static_ips"
        addr = _host_address(where, value, net, site, out)
        if addr is None:
            continue
        if seen[value] > 1 and ips.index(value) == i:
            out.append(Problem(where, f"{addr} is given {seen[value]} times; each job needs its own address"))
        if addr == mb_ip:
            job = BOSH_JOBS[i] if i < len(BOSH_JOBS) else "?"
            out.append(Problem(where, f"{addr} ({job}) is MicroBOSH's microbosh.static_ip"))
        elif addr in reserved:
            out.append(
                Problem(
                    where, f"{addr} is inside network.reserved; the director cannot give a reserved address to a job"
                )
            )


def _check_compilation_workers(
    site: Site, net: Network, bosh: BoshSettings, ips: tuple[str, ...], out: list[Problem]
) -> None:
    workers, where = bosh.compilation_workers, "bosh.compilation_workers"
    if workers is None or workers < 1:
        out.append(Problem(where, f"{workers!r}: at least 1 compilation worker is needed"))
        return
    if net is None:
        return
    taken = aws_reserved(net) | reserved_addresses(site) | {a for a in map(ip, ips) if a}
    taken |= {a for a in (ip(site.network.gateway), ip(site.microbosh.static_ip)) if a}
    free = net.num_addresses - len({a for a in taken if a in net})
    if free < workers:
        out.append(
            Problem(
                where,
                f"{workers} workers need as many free addresses in {net}; only {free} are "
                "left outside network.reserved and the static IPs",
            )
        )
