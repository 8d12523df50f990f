"""Checking the site file and the rendered manifests before bosh-init or the director see them.

Two layers, both collecting every problem before reporting:

* ``site_problems`` checks the site's values against AWS's rules and the guide's troubleshooting
  section: an availability zone given as the region, a region the light stemcell has no AMI for,
  an HVM stemcell with a T1/C1/M1/M2 instance type, static IPs outside the subnet, on AWS's reserved
  addresses or colliding with each other, the private key missing or readable by others, …
* ``bosh_init_problems`` and ``v1_problems`` apply the rules bosh-init and the v233 director apply
  to a manifest (listed in DESIGN.md) to the rendered manifest.  Their problems carry a manifest key
  path; ``check`` maps it back to the site field the value came from (``Rendered.sources``), so the
  operator is told which line of ``site.yml`` to change.  A problem with no site origin is a template
  or lock problem and says so.

Every message names a field: ``site.yml:21: microbosh.static_ip: 10.1.0.6 is outside network.cidr
10.0.0.0/24``.
"""

from __future__ import annotations

import ipaddress
import re
import stat
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundler.core.errors import InputError
from bundler.core.lock import Lock
from installer.manifests.render import (
    BOSH_JOBS,
    SITE_SECTIONS,
    UNKNOWN_UUID,
    Rendered,
    aws_credentials,
    aws_reserved,
    bosh_static_ips,
    parse_range,
    reserved_addresses,
)
from installer.site.model import BoshSettings, Site

AZ_RE = re.compile(r"^([a-z]{2}(?:-gov)?-[a-z]+-\d+)([a-z])$")
REGION_RE = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d+$")
INSTANCE_TYPE_RE = re.compile(r"^([a-z][a-z0-9-]*?)\.([a-z0-9]+)$")
SUBNET_ID_RE = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")
PV_ONLY_FAMILIES = ("t1", "c1", "m1", "m2")  # cannot run HVM AMIs
URL_SCHEMES = ("file://", "http://", "https://")
NETWORK_TYPES = ("manual", "dynamic", "vip")
WATCH_RE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclass(frozen=True)
class Problem:
    field: str  # a site field (``network.cidr``), or an origin such as ``lock:releases/bosh-233.tgz``
    message: str


def format_problem(site: Site, p: Problem) -> str:
    head = p.field.split(".")[0].split("[")[0]
    if head in SITE_SECTIONS:
        return f"{site.where(p.field)}: {p.message}"
    return f"{p.field}: {p.message}"


# ---------------------------------------------------------------- site rules


def _ip(value: Any) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError:
        return None


class _Collector:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(Problem(field, message))


def site_problems(site: Site, lock: Lock | None, kinds: Sequence[str] = ("microbosh", "bosh")) -> list[Problem]:
    out = _Collector()
    _check_aws(site, lock, out)
    net = _check_network(site, out)
    _check_key(site, out)
    light = _stemcell(lock, "light")
    regular = _stemcell(lock, "regular")
    _check_microbosh(site, net, light, out)
    if "bosh" in kinds:
        _check_bosh(site, net, regular, out)
    if not site.ntp:
        out.add("ntp", "give at least one NTP server (the VMs need a correct clock)")
    return out.items


def _stemcell(lock: Lock | None, variant: str):
    if lock is None:
        return None
    return next((a for a in lock.by_kind("stemcell") if a.meta.get("variant", "regular") == variant), None)


def _check_aws(site: Site, lock: Lock | None, out: _Collector) -> None:
    region, az = site.aws.region or "", site.aws.availability_zone or ""
    region_ok = False
    m = AZ_RE.match(region)
    if m:
        out.add(
            "aws.region",
            f"{region!r} is an availability zone, not a region: use {m.group(1)!r} here "
            f"(and {region!r} as aws.availability_zone); the CPI would fail with "
            f"'Stemcell does not contain an AMI for this region ({region})'",
        )
    elif not REGION_RE.match(region):
        out.add("aws.region", f"{region!r} is not an AWS region name such as us-east-1")
    else:
        region_ok = True
    if REGION_RE.match(az):
        out.add("aws.availability_zone", f"{az!r} is a region; an availability zone is the region and a letter: {az}a")
    elif not AZ_RE.match(az):
        out.add("aws.availability_zone", f"{az!r} is not an availability zone name such as us-east-1a")
    elif region_ok and AZ_RE.match(az).group(1) != region:
        out.add("aws.availability_zone", f"{az!r} is in region {AZ_RE.match(az).group(1)}, not in aws.region {region}")
    light = _stemcell(lock, "light")
    if region_ok and light is not None:
        amis = light.meta.get("ami") or {}
        if region not in amis:
            have = ", ".join(sorted(amis)) or "none"
            out.add(
                "aws.region",
                f"the light stemcell {light.name} {light.version} has no AMI for {region} (it has: {have}); "
                "the CPI would fail with 'Stemcell does not contain an AMI for this region'",
            )
    try:
        aws_credentials(site)
    except InputError as exc:
        out.add("aws.profile", str(exc).split(": ", 2)[-1])
    if site.aws.secret_access_key:
        mode = stat.S_IMODE(site.path.stat().st_mode)
        if mode & 0o077:
            out.add(
                "aws.secret_access_key",
                f"{site.path} holds an AWS secret key but has mode {mode:04o}: run chmod 600 {site.path}, "
                "or use aws.profile instead",
            )


def _check_network(site: Site, out: _Collector) -> ipaddress.IPv4Network | None:
    n = site.network
    try:
        net = ipaddress.IPv4Network(n.cidr, strict=True)
    except (ValueError, TypeError):
        out.add("network.cidr", f"{n.cidr!r} is not an IPv4 network in CIDR form such as 10.0.0.0/24")
        return None
    if not 16 <= net.prefixlen <= 28:
        out.add("network.cidr", f"{net} has a /{net.prefixlen} prefix; an AWS subnet is between /16 and /28")
    if not SUBNET_ID_RE.match(n.subnet_id or ""):
        out.add("network.subnet_id", f"{n.subnet_id!r} is not a subnet id such as subnet-e8d03a9e")
    gw = _ip(n.gateway)
    if gw is None:
        out.add("network.gateway", f"{n.gateway!r} is not an IPv4 address")
    elif gw not in net:
        out.add("network.gateway", f"{gw} is outside network.cidr {net}")
    elif gw in (net.network_address, net.broadcast_address):
        out.add("network.gateway", f"{gw} is the network or broadcast address of {net}; AWS's gateway is {net[1]}")
    for i, d in enumerate(n.dns):
        if _ip(d) is None:
            out.add(f"network.dns[{i}]", f"{d!r} is not an IPv4 address")
    if not n.dns:
        out.add("network.dns", f"give at least one DNS server (the VPC resolver is {net[2]})")
    for i, entry in enumerate(n.reserved):
        try:
            a, b = parse_range(entry)
        except ValueError as exc:
            out.add(f"network.reserved[{i}]", f"{entry!r} is not an address or a range A-B ({exc})")
            continue
        if a not in net or b not in net:
            out.add(f"network.reserved[{i}]", f"{entry} is outside network.cidr {net}")
    if (n.security_group or "").startswith("sg-"):
        out.add(
            "network.security_group",
            f"{n.security_group!r} is a group id; give the group's name (default_security_groups takes names)",
        )
    elif not n.security_group:
        out.add("network.security_group", "give the security group's name")
    try:
        ipaddress.IPv4Network(n.operator_cidr, strict=False)
    except (ValueError, TypeError):
        out.add("network.operator_cidr", f"{n.operator_cidr!r} is not a network such as 203.0.113.7/32")
    return net


def _check_key(site: Site, out: _Collector) -> None:
    kp = site.key_pair
    if not kp.name:
        out.add("key_pair.name", "give the name of the EC2 key pair")
    path = kp.private_key
    try:
        st = path.stat()
    except FileNotFoundError:
        out.add("key_pair.private_key", f"{path} does not exist; save the key pair's .pem file there")
        return
    except OSError as exc:
        out.add("key_pair.private_key", f"{path}: cannot read ({exc.strerror})")
        return
    if not stat.S_ISREG(st.st_mode):
        out.add("key_pair.private_key", f"{path} is not a file")
        return
    mode = st.st_mode & 0o777
    if mode not in (0o400, 0o600):
        out.add("key_pair.private_key", f"{path} has mode {mode:04o}; ssh refuses it: run chmod 400 {path}")
    try:
        head = path.read_text(encoding="ascii", errors="replace")[:4096]
    except OSError as exc:
        out.add("key_pair.private_key", f"{path}: cannot read ({exc.strerror})")
        return
    if "PRIVATE KEY-----" not in head:
        out.add("key_pair.private_key", f"{path} is not a PEM private key (no 'BEGIN … PRIVATE KEY' line)")


def _instance_type(field: str, value: str, stemcell, out: _Collector) -> None:
    m = INSTANCE_TYPE_RE.match(value or "")
    if not m:
        out.add(field, f"{value!r} is not an EC2 instance type such as m3.xlarge")
        return
    if stemcell is not None and "hvm" in stemcell.name and m.group(1) in PV_ONLY_FAMILIES:
        out.add(
            field,
            f"{value} cannot run the HVM stemcell {stemcell.name} (T1, C1, M1 and M2 types are PV only; AWS "
            "says 'Non-Windows instances with a virtualization type of hvm are currently not supported for "
            "this instance type'): use m3/c3/m4/c4 or newer",
        )


def _host_address(field: str, value: str | None, net, site: Site, out: _Collector) -> ipaddress.IPv4Address | None:
    ip = _ip(value)
    if ip is None:
        out.add(field, f"{value!r} is not an IPv4 address")
        return None
    if net is None:
        return ip
    if ip not in net:
        out.add(field, f"{ip} is outside network.cidr {net}")
    elif ip in aws_reserved(net):
        out.add(field, f"{ip} is reserved by AWS in {net} (its first four addresses and the last)")
    elif ip == _ip(site.network.gateway) or ip in {_ip(d) for d in site.network.dns}:
        out.add(field, f"{ip} is the subnet's gateway or DNS server")
    return ip


def _public_address(field: str, value: str, net, out: _Collector) -> ipaddress.IPv4Address | None:
    ip = _ip(value)
    if ip is None:
        out.add(field, f"{value!r} is not an IPv4 address")
    elif net is not None and ip in net:
        out.add(field, f"{ip} is inside the private network.cidr {net}; an elastic IP is a public address")
    elif (ip.is_private and not ip.is_loopback) or ip.is_unspecified:  # loopback: test replicas of AWS
        out.add(field, f"{ip} is not a public address; an elastic IP is allocated by AWS (EC2 > Elastic IPs)")
    return ip


def _check_microbosh(site: Site, net, light, out: _Collector) -> None:
    mb = site.microbosh
    _host_address("microbosh.static_ip", mb.static_ip, net, site, out)
    if mb.elastic_ip is not None:
        _public_address("microbosh.elastic_ip", mb.elastic_ip, net, out)
    _instance_type("microbosh.instance_type", mb.instance_type, light, out)
    if mb.disk_size is None or mb.disk_size <= 0:
        out.add("microbosh.disk_size", f"{mb.disk_size!r}: the persistent disk size must be > 0 (MB)")
    elif mb.disk_size < 1024:
        out.add("microbosh.disk_size", f"{mb.disk_size} MB is too small for the director's database and blobs")
    if not mb.director_name:
        out.add("microbosh.director_name", "give the director a name")


def _check_bosh(site: Site, net, regular, out: _Collector) -> None:
    bosh = site.bosh or BoshSettings()
    given = bool(bosh.static_ips)
    ips = bosh_static_ips(site)
    field = "bosh.static_ips"
    if len(ips) != len(BOSH_JOBS):
        if given:
            out.add(field, f"give {len(BOSH_JOBS)} addresses, one per job in this order: {', '.join(BOSH_JOBS)}")
        elif net is not None:
            out.add("network.cidr", f"{net} has too few free addresses for the {len(BOSH_JOBS)} BOSH jobs")
    reserved = reserved_addresses(site)
    mb_ip = _ip(site.microbosh.static_ip)
    seen: Counter[str] = Counter(ips)
    for i, value in enumerate(ips):
        f = f"bosh.static_ips[{i}]" if given else "bosh.static_ips"
        ip = _host_address(f, value, net, site, out)
        if ip is None:
            continue
        if seen[value] > 1 and ips.index(value) == i:
            out.add(f, f"{ip} is given {seen[value]} times; each job needs its own address")
        if ip == mb_ip:
            out.add(f, f"{ip} ({BOSH_JOBS[i] if i < len(BOSH_JOBS) else '?'}) is MicroBOSH's microbosh.static_ip")
        elif ip in reserved:
            out.add(f, f"{ip} is inside network.reserved; the director cannot give a reserved address to a job")
    if bosh.elastic_ip is not None:
        eip = _public_address("bosh.elastic_ip", bosh.elastic_ip, net, out)
        if eip is not None and eip == _ip(site.microbosh.elastic_ip):
            out.add("bosh.elastic_ip", f"{eip} is MicroBOSH's microbosh.elastic_ip; allocate another elastic IP")
    _instance_type("bosh.instance_type", bosh.instance_type, regular, out)
    if bosh.director_instance_type is not None:
        _instance_type("bosh.director_instance_type", bosh.director_instance_type, regular, out)
    _instance_type("bosh.compilation_instance_type", bosh.compilation_instance_type, regular, out)
    if bosh.compilation_workers is None or bosh.compilation_workers < 1:
        out.add("bosh.compilation_workers", f"{bosh.compilation_workers!r}: at least 1 compilation worker is needed")
    elif net is not None:
        taken = aws_reserved(net) | reserved | {a for a in map(_ip, ips) if a}
        taken |= {a for a in (_ip(site.network.gateway), mb_ip) if a}
        free = net.num_addresses - len({a for a in taken if a in net})
        if free < bosh.compilation_workers:
            out.add(
                "bosh.compilation_workers",
                f"{bosh.compilation_workers} workers need as many free addresses in {net}; only {free} are "
                "left outside network.reserved and the static IPs",
            )
    if not bosh.director_name:
        out.add("bosh.director_name", "give the director a name")


def vars_store_problems(site: Site, payload: Path | None, bundle: Path | None) -> list[Problem]:
    out = _Collector()
    store = site.vars_store.resolve()
    for label, d in (("the extracted payload", payload), ("the bundle", bundle)):
        if d is not None and store.is_relative_to(Path(d).resolve()):
            out.add("vars_store", f"{store} is inside {label} ({d}); keep secrets outside it")
    return out.items


# ---------------------------------------------------------------- manifest rules (bosh-init)


def _url_problems(path: str, item: dict, out: list[tuple[str, str]]) -> None:
    url = item.get("url")
    if not isinstance(url, str) or not url.startswith(URL_SCHEMES):
        out.append((f"{path}.url", f"url {url!r} must start with file://, http:// or https://"))
    elif url.startswith(("http://", "https://")) and not item.get("sha1"):
        out.append((f"{path}.sha1", "a release or stemcell fetched over http needs a sha1"))
    elif url.startswith("file://") and not item.get("sha1"):
        out.append((f"{path}.sha1", "no sha1: bosh-init does not check file:// artifacts, so we require one"))


def _subnet_problems(path: str, subnet: dict, out: list[tuple[str, str]]) -> ipaddress.IPv4Network | None:
    try:
        rng = ipaddress.IPv4Network(str(subnet.get("range")), strict=True)
    except ValueError:
        out.append((f"{path}.range", f"range {subnet.get('range')!r} is not a CIDR"))
        return None
    gw = _ip(subnet.get("gateway"))
    if gw is None:
        out.append((f"{path}.gateway", f"gateway {subnet.get('gateway')!r} is not an IPv4 address"))
    elif gw not in rng:
        out.append((f"{path}.gateway", f"gateway {gw} is not inside range {rng}"))
    elif gw in (rng.network_address, rng.broadcast_address):
        out.append((f"{path}.gateway", f"gateway {gw} is the network or broadcast address of {rng}"))
    return rng


def bosh_init_problems(m: Any) -> list[tuple[str, str]]:
    """bosh-init 0.0.81's manifest rules (DESIGN.md), as (manifest key path, message)."""
    out: list[tuple[str, str]] = []
    if not isinstance(m, dict):
        return [("", "the manifest is not a mapping")]
    if not m.get("name"):
        out.append(("name", "name is required"))
    releases = m.get("releases") or []
    if not releases:
        out.append(("releases", "at least one release is required"))
    names = [r.get("name") for r in releases if isinstance(r, dict)]
    for i, r in enumerate(releases):
        if not isinstance(r, dict) or not r.get("name"):
            out.append((f"releases[{i}].name", "release name is required"))
            continue
        if names.count(r["name"]) > 1 and names.index(r["name"]) == i:
            out.append((f"releases[{i}].name", f"release {r['name']!r} is listed twice"))
        _url_problems(f"releases[{i}]", r, out)
    networks: dict[str, dict] = {}
    for i, n in enumerate(m.get("networks") or []):
        p = f"networks[{i}]"
        if n.get("type") not in NETWORK_TYPES:
            out.append((f"{p}.type", f"network type {n.get('type')!r} is not one of {', '.join(NETWORK_TYPES)}"))
        networks[n.get("name")] = n
        if n.get("type") == "manual":
            subnets = n.get("subnets") or []
            if len(subnets) != 1:
                out.append((f"{p}.subnets", f"a manual network needs exactly one subnet, found {len(subnets)}"))
            for j, s in enumerate(subnets):
                n.setdefault("_ranges", []).append(_subnet_problems(f"{p}.subnets[{j}]", s, out))
    pools = {}
    for i, rp in enumerate(m.get("resource_pools") or []):
        pools[rp.get("name")] = rp
        if rp.get("network") not in networks:
            out.append((f"resource_pools[{i}].network", f"network {rp.get('network')!r} is not defined"))
        _url_problems(f"resource_pools[{i}].stemcell", rp.get("stemcell") or {}, out)
    disk_pools = {}
    for i, dp in enumerate(m.get("disk_pools") or []):
        disk_pools[dp.get("name")] = dp
        size = dp.get("disk_size")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            out.append((f"disk_pools[{i}].disk_size", f"disk_size {size!r} must be an integer > 0"))
    jobs = m.get("jobs") or []
    if len(jobs) != 1:
        out.append(("jobs", f"bosh-init deploys exactly one job, found {len(jobs)}"))
    for i, job in enumerate(jobs):
        p = f"jobs[{i}]"
        inst = job.get("instances")
        if not isinstance(inst, int) or isinstance(inst, bool) or inst < 0:
            out.append((f"{p}.instances", f"instances {inst!r} must be an integer >= 0"))
        if job.get("resource_pool") not in pools:
            out.append((f"{p}.resource_pool", f"resource pool {job.get('resource_pool')!r} is not defined"))
        if job.get("persistent_disk_pool") is not None and job["persistent_disk_pool"] not in disk_pools:
            out.append((f"{p}.persistent_disk_pool", f"disk pool {job['persistent_disk_pool']!r} is not defined"))
        for j, t in enumerate(job.get("templates") or []):
            if t.get("release") not in names:
                out.append((f"{p}.templates[{j}].release", f"release {t.get('release')!r} is not in releases"))
        defaults: Counter[str] = Counter()
        jnets = job.get("networks") or []
        for j, jn in enumerate(jnets):
            q = f"{p}.networks[{j}]"
            net = networks.get(jn.get("name"))
            if net is None:
                out.append((f"{q}.name", f"network {jn.get('name')!r} is not defined"))
                continue
            for d in jn.get("default") or []:
                if d not in ("dns", "gateway"):
                    out.append((f"{q}.default", f"default may only list dns and gateway, not {d!r}"))
                defaults[d] += 1
            ranges = [r for r in net.get("_ranges", []) if r is not None]
            for k, sip in enumerate(jn.get("static_ips") or []):
                ip = _ip(sip)
                if ip is None:
                    out.append((f"{q}.static_ips[{k}]", f"static IP {sip!r} is not an IPv4 address"))
                elif net.get("type") == "manual" and ranges and not any(ip in r for r in ranges):
                    out.append((f"{q}.static_ips[{k}]", f"static IP {ip} is not inside the subnet {ranges[0]}"))
        if len(jnets) > 1 and (defaults["dns"] != 1 or defaults["gateway"] != 1):
            out.append((f"{p}.networks", "exactly one network must be the default for dns and gateway"))
    for n in networks.values():
        n.pop("_ranges", None)
    cp = m.get("cloud_provider") or {}
    tmpl = cp.get("template") or {}
    if not tmpl.get("name"):
        out.append(("cloud_provider.template.name", "the CPI job name is required"))
    if tmpl.get("release") not in names:
        out.append(("cloud_provider.template.release", f"release {tmpl.get('release')!r} is not in releases"))
    if not cp.get("mbus"):
        out.append(("cloud_provider.mbus", "mbus URL is required"))
    return out


# ---------------------------------------------------------------- manifest rules (director v1)


def _ranges_of(entries: Iterable[Any], path: str, rng, out: list[tuple[str, str]]) -> set[ipaddress.IPv4Address]:
    addresses: set[ipaddress.IPv4Address] = set()
    for k, entry in enumerate(entries or []):
        try:
            a, b = parse_range(entry)
        except ValueError:
            out.append((f"{path}[{k}]", f"{entry!r} is not an address or a range 'A - B'"))
            continue
        if rng is not None and (a not in rng or b not in rng):
            out.append((f"{path}[{k}]", f"{entry} is not inside range {rng}"))
        if int(b) - int(a) <= 65536:
            addresses.update(ipaddress.IPv4Address(x) for x in range(int(a), int(b) + 1))
    return addresses


def _watch(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value >= 0
    m = WATCH_RE.match(str(value))
    return bool(m) and (m.group(2) is None or int(m.group(1)) <= int(m.group(2)))


def _int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def v1_problems(m: Any, target_uuid: str | None = None) -> list[tuple[str, str]]:
    """The v233 director's deployment manifest rules (DESIGN.md), as (manifest key path, message)."""
    out: list[tuple[str, str]] = []
    if not isinstance(m, dict):
        return [("", "the manifest is not a mapping")]
    if not m.get("name"):
        out.append(("name", "name is required"))
    uuid = m.get("director_uuid")
    if not uuid:
        out.append(("director_uuid", "director_uuid is required"))
    elif target_uuid is not None and uuid != target_uuid:
        out.append(("director_uuid", f"director_uuid {uuid} is not the target director's {target_uuid}"))
    if ("release" in m) == ("releases" in m):
        out.append(("releases", "give exactly one of release and releases"))
    releases = m.get("releases") or ([m["release"]] if isinstance(m.get("release"), dict) else [])
    release_names = [r.get("name") for r in releases]
    upd = m.get("update") or {}
    if not _int(upd.get("canaries"), 0):
        out.append(("update.canaries", f"canaries {upd.get('canaries')!r} must be an integer"))
    if not _int(upd.get("max_in_flight"), 1):
        out.append(("update.max_in_flight", f"max_in_flight {upd.get('max_in_flight')!r} must be an integer >= 1"))
    for key in ("canary_watch_time", "update_watch_time"):
        if not _watch(upd.get(key)):
            out.append((f"update.{key}", f"{key} {upd.get(key)!r} must be N or MIN-MAX with MIN <= MAX"))
    networks: dict[str, dict] = {}
    static_by_net: dict[str, set] = {}
    all_ranges: list[tuple[str, ipaddress.IPv4Network]] = []
    for i, n in enumerate(m.get("networks") or []):
        p = f"networks[{i}]"
        if n.get("name") in networks:
            out.append((f"{p}.name", f"network {n.get('name')!r} is defined twice"))
        networks[n.get("name")] = n
        ntype = n.get("type", "manual")
        if ntype not in NETWORK_TYPES:
            out.append((f"{p}.type", f"network type {ntype!r} is not one of {', '.join(NETWORK_TYPES)}"))
        if ntype != "manual":
            continue
        statics: set = set()
        for j, s in enumerate(n.get("subnets") or []):
            q = f"{p}.subnets[{j}]"
            rng = _subnet_problems(q, s, out)
            if rng is not None:
                for other_path, other in all_ranges:
                    if rng.overlaps(other):
                        out.append((f"{q}.range", f"range {rng} overlaps {other} ({other_path})"))
                all_ranges.append((q, rng))
            static = _ranges_of(s.get("static"), f"{q}.static", rng, out)
            reserved = _ranges_of(s.get("reserved"), f"{q}.reserved", rng, out)
            both = sorted(static & reserved)
            if both:
                out.append((f"{q}.static", f"static and reserved share {', '.join(map(str, both[:5]))}"))
            statics |= static
        static_by_net[n.get("name")] = statics
    comp = m.get("compilation") or {}
    if not _int(comp.get("workers"), 1):
        out.append(("compilation.workers", f"workers {comp.get('workers')!r} must be an integer >= 1"))
    if comp.get("network") not in networks:
        out.append(("compilation.network", f"network {comp.get('network')!r} is not defined"))
    pools = {}
    for i, rp in enumerate(m.get("resource_pools") or []):
        pools[rp.get("name")] = rp
        if rp.get("network") not in networks:
            out.append((f"resource_pools[{i}].network", f"network {rp.get('network')!r} is not defined"))
        sc = rp.get("stemcell") or {}
        if not sc.get("name") or not sc.get("version"):
            out.append((f"resource_pools[{i}].stemcell", "stemcell name and version are required"))
    used: dict[ipaddress.IPv4Address, str] = {}
    job_names: Counter[str] = Counter(j.get("name") for j in m.get("jobs") or [])
    for i, job in enumerate(m.get("jobs") or []):
        p = f"jobs[{i}]"
        if job_names[job.get("name")] > 1:
            out.append((f"{p}.name", f"job name {job.get('name')!r} is used twice"))
        if ("template" in job) == ("templates" in job):
            out.append((p, "give exactly one of template and templates"))
        for j, t in enumerate(job.get("templates") or []):
            if isinstance(t, dict) and t.get("release") is not None and t["release"] not in release_names:
                out.append((f"{p}.templates[{j}].release", f"release {t['release']!r} is not in releases"))
        if job.get("resource_pool") not in pools:
            out.append((f"{p}.resource_pool", f"resource pool {job.get('resource_pool')!r} is not defined"))
        if "persistent_disk" in job and "persistent_disk_pool" in job:
            out.append((p, "give persistent_disk or persistent_disk_pool, not both"))
        inst = job.get("instances")
        if not _int(inst, 0):
            out.append((f"{p}.instances", f"instances {inst!r} must be an integer >= 0"))
        for j, jn in enumerate(job.get("networks") or []):
            q = f"{p}.networks[{j}]"
            net = networks.get(jn.get("name"))
            if net is None:
                out.append((f"{q}.name", f"network {jn.get('name')!r} is not defined"))
                continue
            sips = jn.get("static_ips")
            if sips is None:
                continue
            if _int(inst, 0) and len(sips) != inst:
                out.append((f"{q}.static_ips", f"{len(sips)} static IPs for {inst} instances"))
            for k, sip in enumerate(sips):
                ip = _ip(sip)
                if ip is None:
                    out.append((f"{q}.static_ips[{k}]", f"static IP {sip!r} is not an IPv4 address"))
                    continue
                if net.get("type", "manual") == "manual" and ip not in static_by_net.get(jn["name"], set()):
                    out.append((f"{q}.static_ips[{k}]", f"static IP {ip} is not in the network's static range"))
                if ip in used:
                    out.append((f"{q}.static_ips[{k}]", f"static IP {ip} is also used by job {used[ip]}"))
                used[ip] = job.get("name")
    return out


# ---------------------------------------------------------------- putting it together


def rendered_problems(rendered: Rendered, target_uuid: str | None = None) -> list[Problem]:
    """Manifest rule violations, each attributed to the site field (or lock entry) it came from."""
    if rendered.kind == "microbosh":
        raw = bosh_init_problems(rendered.manifest)
    else:
        uuid = rendered.manifest.get("director_uuid")
        raw = v1_problems(rendered.manifest, target_uuid)
        if uuid == UNKNOWN_UUID:
            raw = [(p, msg) for p, msg in raw if p != "director_uuid"]
    out = [Problem(f, msg) for f, msg in rendered.problems]
    for path, msg in raw:
        origin = rendered.source_of(path)
        where = f"in the {rendered.kind} manifest at {path}"
        if origin is None:
            out.append(Problem(f"manifests/{rendered.kind}.yml", f"{msg} ({where}; a template bug)"))
        else:
            out.append(Problem(origin, f"{msg} ({where})"))
    return out


def check(site: Site, lock: Lock, rendered: Sequence[Rendered], extra: Sequence[Problem] = ()) -> list[str]:
    """Every problem of the site and of the rendered manifests, formatted, site problems first.

    A manifest problem whose site field already has a site-level problem is left out: the site-level
    message says the same thing in the operator's words."""
    kinds = [r.kind for r in rendered] or ["microbosh"]
    problems = site_problems(site, lock, kinds) + list(extra)
    flagged = {p.field.split("[")[0] for p in problems}
    for r in rendered:
        for p in rendered_problems(r):
            if p.field.split("[")[0] not in flagged:
                problems.append(p)
    seen: set[str] = set()
    lines = []
    for p in problems:
        line = format_problem(site, p)
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return lines


def raise_if_any(lines: Sequence[str]) -> None:
    if lines:
        if len(lines) == 1:
            raise InputError(lines[0])
        raise InputError(f"{len(lines)} problems:\n  " + "\n  ".join(lines))
