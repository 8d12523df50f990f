"""``preflight``: check, read-only, that the AWS account matches the site file before a deploy.

Each check names what it looked at, what it found and, when it fails, the fix (the site field to
change or the AWS resource to create).  Checks that need something an earlier check found missing
are reported as ``skip`` with the reason, so one root cause (bad credentials, an AZ written in
``aws.region``) gives one failure rather than ten.  The troubleshooting section of the guide lists
the failures these catch before bosh-init does: no AMI for the region (an AZ in ``aws.region``),
an M1 instance type with an HVM stemcell, a security group without port 6868, a key pair whose
private key is not the local one.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bundler.core.errors import BundleError
from bundler.core.lock import Artifact, Lock
from installer.aws.keys import read_local_key
from installer.aws.rules import missing_rules
from installer.aws.session import (
    AWS_ERRORS,
    Clients,
    clients_for,
    error_code,
    error_text,
    guard_logging,
    unguard_logging,
)
from installer.manifests.render import BOSH_JOBS
from installer.site.model import Site

log = logging.getLogger(__name__)

REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$")
ZONE_RE = re.compile(r"^([a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d+)[a-z]$")
# Previous-generation families that run paravirtual AMIs only (the guide's troubleshooting).
PV_ONLY_FAMILIES = ("t1", "c1", "m1", "m2")
PASS, FAIL, SKIP = "pass", "FAIL", "skip"
# bosh.static_ips are in the BOSH manifest's job order; the director's is at this index
DIRECTOR_JOB_INDEX = BOSH_JOBS.index("director")


@dataclass(frozen=True)
class Check:
    name: str  # stable id: credentials, region, availability_zone, subnet, …
    status: str  # "pass", "FAIL" or "skip"
    detail: str  # what was looked at and found
    fix: str = ""  # what to do, when it failed
    field: str = ""  # the site file location the check is about ("site.yml:4: aws.region")

    @property
    def ok(self) -> bool:
        return self.status != FAIL

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def region_of_zone(zone: str) -> str | None:
    match = ZONE_RE.match(zone or "")
    return match.group(1) if match else None


def stemcell_virtualization(stemcell: Artifact) -> str:
    """``hvm`` for ``…-xen-hvm-…`` stemcells, ``paravirtual`` otherwise (the heavy 3147 is PV)."""
    return "hvm" if "hvm" in stemcell.name.split("-") else "paravirtual"


def preflight(site: Site, lock: Lock | None = None, clients: Clients | None = None) -> list[Check]:
    """Run every check; never changes anything in the account.

    Called without ``clients`` (as ``bosh-install deploy`` does), it builds them from the site and
    keeps the site's credentials out of the log handlers for the duration.
    """
    if clients is not None:
        return _Preflight(site, lock, clients).run()
    clients = clients_for(site)
    guard = guard_logging(clients.secrets)
    try:
        return _Preflight(site, lock, clients).run()
    finally:
        unguard_logging(guard)


class _Preflight:
    def __init__(self, site: Site, lock: Lock | None, clients: Clients):
        self.site, self.lock, self.clients = site, lock, clients
        self.checks: list[Check] = []
        self.subnet: dict[str, Any] | None = None
        self.credentials_ok = False
        self.region_ok = False
        self.zone_ok = False

    # -- plumbing ---------------------------------------------------------------------------

    def add(self, name: str, status: str, detail: str, fix: str = "", field: str = "") -> None:
        where = self.site.where(field) if field else ""
        self.checks.append(Check(name, status, detail, fix, where))

    def aws(self, name: str, field: str, body: Callable[[], None]) -> None:
        """Run an AWS-backed check, turning an API failure into a FAIL of that check."""
        if not self.credentials_ok:
            self.add(name, SKIP, "not checked: the AWS credentials do not work", field=field)
            return
        if not self.region_ok:
            self.add(name, SKIP, f"not checked: aws.region {self.site.aws.region!r} is not usable", field=field)
            return
        try:
            body()
        except AWS_ERRORS as exc:
            self.add(name, FAIL, f"AWS refused the check: {error_text(exc)}", "see AWS's reason above", field)

    def run(self) -> list[Check]:
        self.check_site_file()
        self.check_credentials()
        self.check_region()
        self.aws("availability_zone", "aws.availability_zone", self.check_zone)
        self.aws("subnet", "network.subnet_id", self.check_subnet)
        self.check_addresses()
        self.aws("elastic_ip", "microbosh.elastic_ip", self.check_elastic_ip)
        if self.site.bosh and self.site.bosh.elastic_ip:
            self.aws("bosh_elastic_ip", "bosh.elastic_ip", self.check_bosh_elastic_ip)
        self.aws("key_pair", "key_pair.name", self.check_key_pair)
        self.aws("security_group", "network.security_group", self.check_security_group)
        self.aws("instance_types", "microbosh.instance_type", self.check_instance_types)
        self.check_stemcell_ami()
        return self.checks

    # -- local -------------------------------------------------------------------------------

    def check_site_file(self) -> None:
        if not self.site.aws.secret_access_key:
            return
        mode = stat.S_IMODE(self.site.path.stat().st_mode)
        if mode & 0o077:
            self.add(
                "site_file",
                FAIL,
                f"{self.site.path} holds an AWS secret key but has mode {mode:04o}",
                f"chmod 600 {self.site.path}",
            )
        else:
            self.add("site_file", PASS, f"{self.site.path} holds AWS keys and has mode {mode:04o}")

    def check_addresses(self) -> None:
        net, problems = self.site.network, []
        cidr = ipaddress.ip_network(net.cidr, strict=False)
        hosts = list(cidr.hosts()) if cidr.num_addresses <= 65536 else []
        aws_reserved = {cidr.network_address + i for i in range(4)} | {cidr.broadcast_address}
        gateway = _ip(net.gateway)
        if gateway is None or gateway not in cidr:
            problems.append(f"network.gateway {net.gateway} is not inside {net.cidr}")
        elif hosts and gateway != cidr.network_address + 1:
            problems.append(f"network.gateway {net.gateway} is not {cidr.network_address + 1}, AWS's subnet router")
        for i, dns in enumerate(net.dns):
            if _ip(dns) is None:
                problems.append(f"network.dns[{i}] {dns!r} is not an IP address")
        reserved = _ranges(net.reserved, problems)
        statics = [("microbosh.static_ip", self.site.microbosh.static_ip)]
        if self.site.bosh:
            statics += [(f"bosh.static_ips[{i}]", ip) for i, ip in enumerate(self.site.bosh.static_ips)]
        seen: dict[Any, str] = {}
        for key, value in statics:
            ip = _ip(value)
            if ip is None or ip not in cidr:
                problems.append(f"{key} {value} is not inside {net.cidr}")
                continue
            if ip in aws_reserved:
                problems.append(f"{key} {value} is one of the five addresses AWS reserves in every subnet")
            if ip == gateway:
                problems.append(f"{key} {value} is the gateway")
            if ip in seen:
                problems.append(f"{key} {value} is also {seen[ip]}")
            seen[ip] = key
            # (MicroBOSH's own address is added to the BOSH network's reserved ranges by the manifests)
            if key.startswith("bosh.") and any(lo <= ip <= hi for lo, hi in reserved):
                problems.append(f"{key} {value} is inside network.reserved; BOSH refuses static IPs there")
        if problems:
            self.add("addresses", FAIL, "; ".join(problems), "correct these fields in the site file", "network.cidr")
        else:
            self.add(
                "addresses",
                PASS,
                f"gateway, DNS and {len(statics)} static IP(s) fit {net.cidr}",
                field="network.cidr",
            )

    def check_stemcell_ami(self) -> None:
        field = "aws.region"
        if self.lock is None:
            self.add("stemcell_ami", SKIP, "not checked: no lock given (--lock bundle.lock)", field=field)
            return
        stemcells = self.lock.by_kind("stemcell")
        if not stemcells:
            self.add("stemcell_ami", SKIP, "the lock has no stemcell", field=field)
            return
        region = self.site.aws.region
        for sc in stemcells:
            label = f"stemcell {sc.name} {sc.version}"
            amis = sc.meta.get("ami") or {}
            if sc.meta.get("variant") != "light" and not amis:
                self.add("stemcell_ami", PASS, f"{label} is a full stemcell: the CPI uploads it as an AMI", field=field)
                continue
            ami = amis.get(region)
            if not ami:
                fix = f"use a region the stemcell has an AMI for ({', '.join(sorted(amis)) or 'none'})"
                zone_region = region_of_zone(region)
                if zone_region:
                    fix = f"aws.region {region!r} is an availability zone: set aws.region to {zone_region!r}"
                self.add(
                    "stemcell_ami",
                    FAIL,
                    f"{label} has no AMI for region {region} (bosh-init would fail with 'Stemcell does not "
                    f"contain an AMI for this region ({region})')",
                    fix,
                    field,
                )
                continue
            self.aws("stemcell_ami", field, lambda sc=sc, ami=ami, label=label: self._check_ami(sc, ami, label))

    def _check_ami(self, sc: Artifact, ami: str, label: str) -> None:
        field = "aws.region"
        try:
            images = self.clients.ec2.describe_images(ImageIds=[ami])["Images"]
        except AWS_ERRORS as exc:
            if not error_code(exc).startswith("InvalidAMIID"):
                raise
            images = []
        if not images:
            self.add(
                "stemcell_ami",
                FAIL,
                f"{label} names {ami} for {self.site.aws.region}, but that AMI does not exist or is not visible",
                "use a newer light stemcell, or the full stemcell (the CPI then creates the AMI)",
                field,
            )
            return
        image = images[0]
        virt, want = image.get("VirtualizationType"), stemcell_virtualization(sc)
        if image.get("State", "available") != "available":
            self.add(
                "stemcell_ami", FAIL, f"AMI {ami} of {label} is {image.get('State')}", "wait or re-register", field
            )
        elif virt and virt != want:
            self.add(
                "stemcell_ami",
                FAIL,
                f"AMI {ami} of {label} is {virt}, but the stemcell name says {want}",
                "the lock names the wrong AMI: lock the stemcell again",
                field,
            )
        else:
            self.add(
                "stemcell_ami", PASS, f"{label}: {ami} exists in {self.site.aws.region} ({virt or want})", "", field
            )

    # -- AWS ---------------------------------------------------------------------------------

    def check_credentials(self) -> None:
        field = "aws.access_key_id" if self.site.aws.access_key_id else "aws.profile"
        region = self.site.aws.region
        # STS answers in every region: with an AZ or a typo in aws.region, ask the zone's region (or
        # us-east-1) so that the region check, not a DNS failure here, explains the problem
        sts_region = region if REGION_RE.match(region) else (region_of_zone(region) or "us-east-1")
        try:
            ident = self.clients.client("sts", sts_region).get_caller_identity()
        except AWS_ERRORS as exc:
            self.add(
                "credentials",
                FAIL,
                f"STS GetCallerIdentity failed: {error_text(exc)}",
                "check aws.profile, or aws.access_key_id and aws.secret_access_key, and that the key is active",
                field,
            )
            return
        self.credentials_ok = True
        self.add("credentials", PASS, f"AWS account {ident.get('Account')}", field=field)

    def check_region(self) -> None:
        region, field = self.site.aws.region, "aws.region"
        zone_region = region_of_zone(region)
        if zone_region:
            self.add(
                "region",
                FAIL,
                f"aws.region {region!r} is an availability zone, not a region",
                f"set aws.region to {zone_region!r} (and aws.availability_zone to {region!r})",
                field,
            )
            return
        if not REGION_RE.match(region):
            self.add("region", FAIL, f"aws.region {region!r} is not a region name", "use e.g. us-east-1", field)
            return
        if not self.credentials_ok:
            self.add("region", SKIP, "not checked: the AWS credentials do not work", field=field)
            return
        try:
            regions = self.clients.ec2.describe_regions(RegionNames=[region], AllRegions=True)["Regions"]
        except AWS_ERRORS as exc:
            self.add("region", FAIL, f"region {region}: {error_text(exc)}", "use an existing region", field)
            return
        opt_in = regions[0].get("OptInStatus", "") if regions else ""
        if not regions:
            self.add("region", FAIL, f"region {region} does not exist", "use an existing region", field)
        elif opt_in == "not-opted-in":
            self.add("region", FAIL, f"region {region} is not enabled for this account", "enable it", field)
        else:
            self.region_ok = True
            self.add("region", PASS, f"region {region} exists", field=field)

    def check_zone(self) -> None:
        zone, region, field = self.site.aws.availability_zone, self.site.aws.region, "aws.availability_zone"
        if zone == region or REGION_RE.match(zone):
            self.add(
                "availability_zone",
                FAIL,
                f"aws.availability_zone {zone!r} is a region, not a zone",
                f"use a zone of {region}, such as {region}a",
                field,
            )
            return
        zone_region = region_of_zone(zone)
        if zone_region != region:
            self.add(
                "availability_zone",
                FAIL,
                f"aws.availability_zone {zone} is not in region {region}"
                + (f" (it is in {zone_region})" if zone_region else ""),
                f"use a zone of {region}, such as {region}a",
                field,
            )
            return
        zones = self.clients.ec2.describe_availability_zones(
            AllAvailabilityZones=True, Filters=[{"Name": "zone-name", "Values": [zone]}]
        )["AvailabilityZones"]
        if not zones:
            self.add("availability_zone", FAIL, f"{zone} does not exist in {region}", f"use e.g. {region}a", field)
        elif zones[0].get("State") != "available":
            self.add("availability_zone", FAIL, f"{zone} is {zones[0].get('State')}", "use another zone", field)
        else:
            self.zone_ok = True
            self.add("availability_zone", PASS, f"{zone} is in {region}", field=field)

    def check_subnet(self) -> None:
        net, field = self.site.network, "network.subnet_id"
        if not net.subnet_id:
            self.add(
                "subnet", FAIL, "network.subnet_id is empty", "run 'bosh-install aws prepare' or fill it in", field
            )
            return
        try:
            subnets = self.clients.ec2.describe_subnets(SubnetIds=[net.subnet_id])["Subnets"]
        except AWS_ERRORS as exc:
            if error_code(exc) != "InvalidSubnetID.NotFound":
                raise
            subnets = []
        if not subnets:
            self.add(
                "subnet",
                FAIL,
                f"subnet {net.subnet_id} does not exist in {self.site.aws.region}",
                "correct network.subnet_id, or empty it and run 'bosh-install aws prepare'",
                field,
            )
            return
        self.subnet = subnet = subnets[0]
        problems, fixes = [], []
        if subnet["AvailabilityZone"] != self.site.aws.availability_zone:
            problems.append(
                f"it is in {subnet['AvailabilityZone']}, but aws.availability_zone is {self.site.aws.availability_zone}"
            )
            fixes.append(f"set aws.availability_zone to {subnet['AvailabilityZone']} or use a subnet in that zone")
        if subnet["CidrBlock"] != net.cidr:
            problems.append(f"its CIDR is {subnet['CidrBlock']}, but network.cidr is {net.cidr}")
            fixes.append(f"set network.cidr to {subnet['CidrBlock']}")
        if net.vpc_id and subnet["VpcId"] != net.vpc_id:
            problems.append(f"it is in {subnet['VpcId']}, but network.vpc_id is {net.vpc_id}")
            fixes.append(f"set network.vpc_id to {subnet['VpcId']}")
        if problems:
            self.add("subnet", FAIL, f"subnet {net.subnet_id}: " + "; ".join(problems), "; ".join(fixes), field)
        else:
            self.add(
                "subnet",
                PASS,
                f"{net.subnet_id} ({subnet['CidrBlock']}) in {subnet['AvailabilityZone']}, {subnet['VpcId']}",
                field=field,
            )

    def check_elastic_ip(self) -> None:
        eip, field = self.site.microbosh.elastic_ip, "microbosh.elastic_ip"
        if not eip:
            self.add(
                "elastic_ip",
                PASS,
                f"no elastic IP: MicroBOSH is reached at its private address {self.site.microbosh.static_ip} "
                "(run 'bosh-install aws prepare' to allocate one)",
                field=field,
            )
            return
        self._check_address("elastic_ip", field, eip, self.site.microbosh.static_ip, "MicroBOSH")

    def check_bosh_elastic_ip(self) -> None:
        bosh = self.site.bosh
        eip, field = bosh.elastic_ip, "bosh.elastic_ip"
        if eip == self.site.microbosh.elastic_ip:
            self.add("bosh_elastic_ip", FAIL, f"{eip} is MicroBOSH's elastic IP too", "use a second one", field)
            return
        ips = bosh.static_ips
        director = ips[DIRECTOR_JOB_INDEX] if len(ips) > DIRECTOR_JOB_INDEX else None
        self._check_address("bosh_elastic_ip", field, eip, director, "the BOSH director")

    def _check_address(self, name: str, field: str, eip: str, owner_ip: str | None, owner: str) -> None:
        try:
            addresses = self.clients.ec2.describe_addresses(PublicIps=[eip])["Addresses"]
        except AWS_ERRORS as exc:
            if not error_code(exc).startswith("InvalidAddress"):
                raise
            addresses = []
        if not addresses:
            self.add(
                name,
                FAIL,
                f"elastic IP {eip} is not allocated to this account in {self.site.aws.region}",
                f"allocate one and fill in {field} (for MicroBOSH: empty it and run 'bosh-install aws prepare')",
                field,
            )
            return
        addr = addresses[0]
        if addr.get("Domain", "vpc") != "vpc":
            self.add(name, FAIL, f"{eip} is an EC2-Classic address", "allocate a VPC elastic IP", field)
            return
        if not addr.get("AssociationId") and not addr.get("InstanceId"):
            self.add(name, PASS, f"{eip} is allocated and free", field=field)
            return
        private, instance = addr.get("PrivateIpAddress"), addr.get("InstanceId") or addr.get("NetworkInterfaceId")
        if owner_ip is None:
            self.add(name, PASS, f"{eip} is on {instance} ({private}); {owner}'s address is derived", field=field)
        elif private == owner_ip:
            self.add(name, PASS, f"{eip} is on the {owner} VM {instance} ({private})", field=field)
        else:
            self.add(
                name,
                FAIL,
                f"elastic IP {eip} is associated with {instance} ({private}), not with {owner} ({owner_ip})",
                f"disassociate it (association {addr.get('AssociationId')}) or use another elastic IP",
                field,
            )

    def check_key_pair(self) -> None:
        kp, field = self.site.key_pair, "key_pair.name"
        try:
            local = read_local_key(kp.private_key)
        except BundleError as exc:
            self.add("key_pair", FAIL, str(exc), "fix key_pair.private_key", "key_pair.private_key")
            return
        mode = stat.S_IMODE(kp.private_key.stat().st_mode)
        if mode & 0o077:
            self.add(
                "key_pair",
                FAIL,
                f"{kp.private_key} has mode {mode:04o}; ssh and bosh-init refuse keys others can read",
                f"chmod 400 {kp.private_key}",
                "key_pair.private_key",
            )
            return
        try:
            pairs = self.clients.ec2.describe_key_pairs(KeyNames=[kp.name])["KeyPairs"]
        except AWS_ERRORS as exc:
            if error_code(exc) != "InvalidKeyPair.NotFound":
                raise
            pairs = []
        if not pairs:
            self.add(
                "key_pair",
                FAIL,
                f"no key pair named {kp.name!r} in {self.site.aws.region}",
                "run 'bosh-install aws prepare' (imports the local key), or import it in the EC2 console",
                field,
            )
            return
        remote = pairs[0].get("KeyFingerprint", "")
        if local.matches(remote):
            self.add("key_pair", PASS, f"{kp.name!r} matches {kp.private_key} ({remote})", field=field)
            return
        self.add(
            "key_pair",
            FAIL,
            f"key pair {kp.name!r} has fingerprint {remote}, but {kp.private_key} gives "
            f"{' or '.join(local.fingerprints[:2])}: the local private key is not this key pair's",
            "point key_pair.private_key at the key pair's private key, or re-import the local key under this name",
            field,
        )

    def _vpc_id(self) -> str | None:
        return self.site.network.vpc_id or (self.subnet or {}).get("VpcId")

    def check_security_group(self) -> None:
        net, field = self.site.network, "network.security_group"
        vpc_id = self._vpc_id()
        ec2 = self.clients.ec2
        if net.security_group_id:
            try:
                groups = ec2.describe_security_groups(GroupIds=[net.security_group_id])["SecurityGroups"]
            except AWS_ERRORS as exc:
                if not error_code(exc).startswith("InvalidGroup"):
                    raise
                groups = []
            what = f"security group {net.security_group_id}"
        else:
            if not vpc_id:
                self.add("security_group", SKIP, "not checked: the VPC is unknown (no subnet, no vpc_id)", field=field)
                return
            filters = [{"Name": "group-name", "Values": [net.security_group]}, {"Name": "vpc-id", "Values": [vpc_id]}]
            groups = ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
            what = f"security group {net.security_group!r} in {vpc_id}"
        if not groups:
            self.add(
                "security_group",
                FAIL,
                f"{what} does not exist",
                "run 'bosh-install aws prepare', or create it with the guide's rules",
                field,
            )
            return
        group = groups[0]
        problems = []
        if group.get("GroupName") != net.security_group:
            problems.append(
                f"its name is {group.get('GroupName')!r}, but network.security_group is {net.security_group!r}"
            )
        if vpc_id and group.get("VpcId") != vpc_id:
            problems.append(f"it is in {group.get('VpcId')}, not in the subnet's {vpc_id}")
        missing = missing_rules(group, net.operator_cidr)
        if missing:
            problems.append("no inbound rule for " + "; ".join(r.describe(net.operator_cidr) for r in missing))
        if problems:
            self.add(
                "security_group",
                FAIL,
                f"{group['GroupId']} ({group.get('GroupName')}): " + "; ".join(problems),
                "add the rules (or run 'bosh-install aws prepare' if it created the group)",
                field,
            )
        else:
            self.add("security_group", PASS, f"{group['GroupId']} has the guide's five rules", field=field)

    def check_instance_types(self) -> None:
        site, field = self.site, "microbosh.instance_type"
        wanted = {"microbosh.instance_type": site.microbosh.instance_type}
        if site.bosh:
            wanted["bosh.instance_type"] = site.bosh.instance_type
            wanted["bosh.director_instance_type"] = site.bosh.director_instance_type or site.bosh.instance_type
            wanted["bosh.compilation_instance_type"] = site.bosh.compilation_instance_type
        types = sorted(set(wanted.values()))
        problems = []
        if self.zone_ok:
            offered = {
                o["InstanceType"]
                for o in self.clients.ec2.describe_instance_type_offerings(
                    LocationType="availability-zone",
                    Filters=[
                        {"Name": "location", "Values": [site.aws.availability_zone]},
                        {"Name": "instance-type", "Values": types},
                    ],
                )["InstanceTypeOfferings"]
            }
            for key, itype in wanted.items():
                if itype not in offered:
                    problems.append(f"{key} {itype} is not offered in {site.aws.availability_zone}")
        # MicroBOSH boots the light stemcell, the BOSH deployment the regular one (installer.manifests.render)
        stemcells = self.lock.by_kind("stemcell") if self.lock else []
        used = {}
        for key in wanted:
            variant = "light" if key.startswith("microbosh.") else "regular"
            sc = next((a for a in stemcells if a.meta.get("variant", "regular") == variant), None)
            if sc is not None:
                used[key] = sc
        supported = self._virtualization_types(sorted({wanted[k] for k in used})) if used else {}
        virts = set()
        for key, sc in used.items():
            itype, virt = wanted[key], stemcell_virtualization(sc)
            virts.add(virt)
            known = supported.get(itype)
            if virt == "hvm" and itype.split(".")[0] in PV_ONLY_FAMILIES:
                problems.append(
                    f"{key} {itype} cannot run the HVM stemcell {sc.name} (T1, C1, M1 and M2 run paravirtual AMIs only)"
                )
            elif known is not None and virt not in known:
                problems.append(f"{key} {itype} does not support {virt} AMIs (stemcell {sc.name})")
        if problems:
            self.add(
                "instance_types",
                FAIL,
                "; ".join(problems),
                "choose current-generation types such as m3.xlarge, m3.medium, c3.large",
                field,
            )
            return
        detail = ", ".join(types) + (f" in {site.aws.availability_zone}" if self.zone_ok else "")
        if virts:
            detail += f", support {'/'.join(sorted(virts))}"
        self.add("instance_types", PASS, detail, field=field)

    def _virtualization_types(self, types: list[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for itype in types:  # one by one: an unknown type fails the whole call
            try:
                info = self.clients.ec2.describe_instance_types(InstanceTypes=[itype])["InstanceTypes"]
            except AWS_ERRORS as exc:
                if error_code(exc) != "InvalidInstanceType":
                    raise
                continue
            if info and info[0].get("SupportedVirtualizationTypes"):
                out[itype] = set(info[0]["SupportedVirtualizationTypes"])
        return out


def _ip(value: str | None) -> Any:
    try:
        return ipaddress.ip_address(value) if value else None
    except ValueError:
        return None


def _ranges(values: tuple[str, ...], problems: list[str]) -> list[tuple[Any, Any]]:
    out = []
    for i, value in enumerate(values):
        lo_s, _, hi_s = value.partition("-")
        lo, hi = _ip(lo_s.strip()), _ip((hi_s or lo_s).strip())
        if lo is None or hi is None or hi < lo:
            problems.append(f"network.reserved[{i}] {value!r} is not an address or a range A-B")
            continue
        out.append((lo, hi))
    return out


def require_preflight(site: Site, lock: Lock) -> None:
    """Run ``preflight``; any failed check stops the deploy (exit 1) with all of them listed."""
    failed = [c for c in preflight(site, lock) if not c.ok]
    if failed:
        lines = [f"{c.field or c.name}: {c.detail}" + (f" ({c.fix})" if c.fix else "") for c in failed]
        raise BundleError(
            f"AWS preflight failed ({len(failed)} checks); fix these or pass --skip-preflight:\n  " + "\n  ".join(lines)
        )
