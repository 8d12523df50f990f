"""The preflight's checks of the account and the network: credentials, region, zone, subnet, addresses,
elastic IPs and the security group.

Each is a function of the ``Preflight`` run that adds its ``Check`` rows.  Region and zone names
are decided by ``bundler.core.awsnames`` and address arithmetic by ``installer.site.addresses``;
the subnet id's form is the site rules' (``subnet_id_problems``).  The region, zone, address and
shared-elastic-IP rows still word what they find in the preflight's own terms (``aws.region
'us-east-1a' is an availability zone``, ``… is not inside 10.0.0.0/24``), which differ from the
site rules' sentences for the same findings.  Imports the run, the session's
error helpers, the guide's rules, ``bundler.core.awsnames``/``awssession`` and the site's addresses
and rules.
"""

from __future__ import annotations

import ipaddress

from bundler.core.awsnames import is_region, region_of_zone
from bundler.core.awssession import DEFAULT_REGION
from installer.aws.checkrun import FAIL, PASS, SKIP, Preflight
from installer.aws.rules import missing_rules
from installer.aws.session import AWS_ERRORS, error_code, error_text
from installer.site.addresses import DIRECTOR_JOB_INDEX, aws_reserved, ip, parse_range
from installer.site.rules import subnet_id_problems


def check_credentials(pf: Preflight) -> None:
    field = "aws.access_key_id" if pf.site.aws.access_key_id else "aws.profile"
    region = pf.site.aws.region
    # STS answers in every region: with an AZ or a typo in aws.region, ask the zone's region (or
    # us-east-1) so that the region check, not a DNS failure here, explains the problem
    sts_region = region if is_region(region) else (region_of_zone(region) or DEFAULT_REGION)
    try:
        ident = pf.clients.client("sts", sts_region).get_caller_identity()
    except AWS_ERRORS as exc:
        pf.add(
            "credentials",
            FAIL,
            f"STS GetCallerIdentity failed: {error_text(exc)}",
            "check aws.profile, or aws.access_key_id and aws.secret_access_key, and that the key is active",
            field,
        )
        return
    pf.credentials_ok = True
    pf.add("credentials", PASS, f"AWS account {ident.get('Account')}", field=field)


def check_region(pf: Preflight) -> None:
    region, field = pf.site.aws.region, "aws.region"
    zone_region = region_of_zone(region)
    if zone_region:
        pf.add(
            "region",
            FAIL,
            f"aws.region {region!r} is an availability zone, not a region",
            f"set aws.region to {zone_region!r} (and aws.availability_zone to {region!r})",
            field,
        )
        return
    if not is_region(region):
        pf.add("region", FAIL, f"aws.region {region!r} is not a region name", "use e.g. us-east-1", field)
        return
    if not pf.credentials_ok:
        pf.add("region", SKIP, "not checked: the AWS credentials do not work", field=field)
        return
    try:
        regions = pf.clients.ec2.describe_regions(RegionNames=[region], AllRegions=True)["Regions"]
    except AWS_ERRORS as exc:
        pf.add("region", FAIL, f"region {region}: {error_text(exc)}", "use an existing region", field)
        return
    opt_in = regions[0].get("OptInStatus", "") if regions else ""
    if not regions:
        pf.add("region", FAIL, f"region {region} does not exist", "use an existing region", field)
    elif opt_in == "not-opted-in":
        pf.add("region", FAIL, f"region {region} is not enabled for this account", "enable it", field)
    else:
        pf.region_ok = True
        pf.add("region", PASS, f"region {region} exists", field=field)


def check_zone(pf: Preflight) -> None:
    zone, region, field = pf.site.aws.availability_zone, pf.site.aws.region, "aws.availability_zone"
    if zone == region or is_region(zone):
        pf.add(
            "availability_zone",
            FAIL,
            f"aws.availability_zone {zone!r} is a region, not a zone",
            f"use a zone of {region}, such as {region}a",
            field,
        )
        return
    zone_region = region_of_zone(zone)
    if zone_region != region:
        pf.add(
            "availability_zone",
            FAIL,
            f"aws.availability_zone {zone} is not in region {region}"
            + (f" (it is in {zone_region})" if zone_region else ""),
            f"use a zone of {region}, such as {region}a",
            field,
        )
        return
    zones = pf.clients.ec2.describe_availability_zones(
        AllAvailabilityZones=True, Filters=[{"Name": "zone-name", "Values": [zone]}]
    )["AvailabilityZones"]
    if not zones:
        pf.add("availability_zone", FAIL, f"{zone} does not exist in {region}", f"use e.g. {region}a", field)
    elif zones[0].get("State") != "available":
        pf.add("availability_zone", FAIL, f"{zone} is {zones[0].get('State')}", "use another zone", field)
    else:
        pf.zone_ok = True
        pf.add("availability_zone", PASS, f"{zone} is in {region}", field=field)


def check_subnet(pf: Preflight) -> None:
    net, field = pf.site.network, "network.subnet_id"
    if pf.report("subnet", subnet_id_problems(pf.site)):
        return
    try:
        subnets = pf.clients.ec2.describe_subnets(SubnetIds=[net.subnet_id])["Subnets"]
    except AWS_ERRORS as exc:
        if error_code(exc) != "InvalidSubnetID.NotFound":
            raise
        subnets = []
    if not subnets:
        pf.add(
            "subnet",
            FAIL,
            f"subnet {net.subnet_id} does not exist in {pf.site.aws.region}",
            "correct network.subnet_id, or empty it and run 'bosh-install aws prepare'",
            field,
        )
        return
    pf.subnet = subnet = subnets[0]
    problems, fixes = [], []
    zone = pf.site.aws.availability_zone
    if subnet["AvailabilityZone"] != zone:
        problems.append(f"it is in {subnet['AvailabilityZone']}, but aws.availability_zone is {zone}")
        fixes.append(f"set aws.availability_zone to {subnet['AvailabilityZone']} or use a subnet in that zone")
    if subnet["CidrBlock"] != net.cidr:
        problems.append(f"its CIDR is {subnet['CidrBlock']}, but network.cidr is {net.cidr}")
        fixes.append(f"set network.cidr to {subnet['CidrBlock']}")
    if net.vpc_id and subnet["VpcId"] != net.vpc_id:
        problems.append(f"it is in {subnet['VpcId']}, but network.vpc_id is {net.vpc_id}")
        fixes.append(f"set network.vpc_id to {subnet['VpcId']}")
    if problems:
        pf.add("subnet", FAIL, f"subnet {net.subnet_id}: " + "; ".join(problems), "; ".join(fixes), field)
    else:
        where = f"{net.subnet_id} ({subnet['CidrBlock']}) in {subnet['AvailabilityZone']}, {subnet['VpcId']}"
        pf.add("subnet", PASS, where, field=field)


def check_addresses(pf: Preflight) -> None:
    """Gateway, DNS, reserved ranges and static IPs against the subnet, as AWS lays it out."""
    net = pf.site.network
    cidr = ipaddress.ip_network(net.cidr, strict=False)
    problems: list[str] = []
    gateway = ip(net.gateway)
    if gateway is None or gateway not in cidr:
        problems.append(f"network.gateway {net.gateway} is not inside {net.cidr}")
    elif cidr.num_addresses <= 65536 and gateway != cidr.network_address + 1:
        problems.append(f"network.gateway {net.gateway} is not {cidr.network_address + 1}, AWS's subnet router")
    for i, dns in enumerate(net.dns):
        if ip(dns) is None:
            problems.append(f"network.dns[{i}] {dns!r} is not an IP address")
    reserved = []
    for i, value in enumerate(net.reserved):
        try:
            reserved.append(parse_range(value))
        except ValueError:
            problems.append(f"network.reserved[{i}] {value!r} is not an address or a range A-B")
    statics = [("microbosh.static_ip", pf.site.microbosh.static_ip)]
    if pf.site.bosh:
        statics += [(f"bosh.static_ips[{i}]", value) for i, value in enumerate(pf.site.bosh.static_ips)]
    _static_ip_problems(statics, cidr, gateway, reserved, problems)
    if problems:
        pf.add("addresses", FAIL, "; ".join(problems), "correct these fields in the site file", "network.cidr")
    else:
        pf.add("addresses", PASS, f"gateway, DNS and {len(statics)} static IP(s) fit {net.cidr}", field="network.cidr")


def _static_ip_problems(
    statics: list[tuple[str, str]],
    cidr: ipaddress.IPv4Network,
    gateway: ipaddress.IPv4Address | None,
    reserved: list[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]],
    problems: list[str],
) -> None:
    seen: dict[ipaddress.IPv4Address, str] = {}
    for key, value in statics:
        addr = ip(value)
        if addr is None or addr not in cidr:
            problems.append(f"{key} {value} is not inside {cidr}")
            continue
        if addr in aws_reserved(cidr):
            problems.append(f"{key} {value} is one of the five addresses AWS reserves in every subnet")
        if addr == gateway:
            problems.append(f"{key} {value} is the gateway")
        if addr in seen:
            problems.append(f"{key} {value} is also {seen[addr]}")
        seen[addr] = key
        # (MicroBOSH's own address is added to the BOSH network's reserved ranges by the manifests)
        if key.startswith("bosh.") and any(lo <= addr <= hi for lo, hi in reserved):
            problems.append(f"{key} {value} is inside network.reserved; BOSH refuses static IPs there")


def check_elastic_ip(pf: Preflight) -> None:
    eip, field = pf.site.microbosh.elastic_ip, "microbosh.elastic_ip"
    if not eip:
        pf.add(
            "elastic_ip",
            PASS,
            f"no elastic IP: MicroBOSH is reached at its private address {pf.site.microbosh.static_ip} "
            "(run 'bosh-install aws prepare' to allocate one)",
            field=field,
        )
        return
    _check_address(pf, "elastic_ip", field, eip, pf.site.microbosh.static_ip, "MicroBOSH")


def check_bosh_elastic_ip(pf: Preflight) -> None:
    bosh = pf.site.bosh
    eip, field = bosh.elastic_ip, "bosh.elastic_ip"
    if eip == pf.site.microbosh.elastic_ip:
        pf.add("bosh_elastic_ip", FAIL, f"{eip} is MicroBOSH's elastic IP too", "use a second one", field)
        return
    ips = bosh.static_ips
    director = ips[DIRECTOR_JOB_INDEX] if len(ips) > DIRECTOR_JOB_INDEX else None
    _check_address(pf, "bosh_elastic_ip", field, eip, director, "the BOSH director")


def _check_address(pf: Preflight, name: str, field: str, eip: str, owner_ip: str | None, owner: str) -> None:
    try:
        addresses = pf.clients.ec2.describe_addresses(PublicIps=[eip])["Addresses"]
    except AWS_ERRORS as exc:
        if not error_code(exc).startswith("InvalidAddress"):
            raise
        addresses = []
    if not addresses:
        pf.add(
            name,
            FAIL,
            f"elastic IP {eip} is not allocated to this account in {pf.site.aws.region}",
            f"allocate one and fill in {field} (for MicroBOSH: empty it and run 'bosh-install aws prepare')",
            field,
        )
        return
    addr = addresses[0]
    if addr.get("Domain", "vpc") != "vpc":
        pf.add(name, FAIL, f"{eip} is an EC2-Classic address", "allocate a VPC elastic IP", field)
        return
    if not addr.get("AssociationId") and not addr.get("InstanceId"):
        pf.add(name, PASS, f"{eip} is allocated and free", field=field)
        return
    private, instance = addr.get("PrivateIpAddress"), addr.get("InstanceId") or addr.get("NetworkInterfaceId")
    if owner_ip is None:
        pf.add(name, PASS, f"{eip} is on {instance} ({private}); {owner}'s address is derived", field=field)
    elif private == owner_ip:
        pf.add(name, PASS, f"{eip} is on the {owner} VM {instance} ({private})", field=field)
    else:
        pf.add(
            name,
            FAIL,
            f"elastic IP {eip} is associated with {instance} ({private}), not with {owner} ({owner_ip})",
            f"disassociate it (association {addr.get('AssociationId')}) or use another elastic IP",
            field,
        )


def check_security_group(pf: Preflight) -> None:
    net, field = pf.site.network, "network.security_group"
    vpc_id = net.vpc_id or (pf.subnet or {}).get("VpcId")
    if net.security_group_id:
        try:
            groups = pf.clients.ec2.describe_security_groups(GroupIds=[net.security_group_id])["SecurityGroups"]
        except AWS_ERRORS as exc:
            if not error_code(exc).startswith("InvalidGroup"):
                raise
            groups = []
        what = f"security group {net.security_group_id}"
    elif not vpc_id:
        pf.add("security_group", SKIP, "not checked: the VPC is unknown (no subnet, no vpc_id)", field=field)
        return
    else:
        filters = [{"Name": "group-name", "Values": [net.security_group]}, {"Name": "vpc-id", "Values": [vpc_id]}]
        groups = pf.clients.ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
        what = f"security group {net.security_group!r} in {vpc_id}"
    if not groups:
        fix = "run 'bosh-install aws prepare', or create it with the guide's rules"
        pf.add("security_group", FAIL, f"{what} does not exist", fix, field)
        return
    group = groups[0]
    problems = []
    if group.get("GroupName") != net.security_group:
        problems.append(f"its name is {group.get('GroupName')!r}, but network.security_group is {net.security_group!r}")
    if vpc_id and group.get("VpcId") != vpc_id:
        problems.append(f"it is in {group.get('VpcId')}, not in the subnet's {vpc_id}")
    missing = missing_rules(group, net.operator_cidr)
    if missing:
        problems.append("no inbound rule for " + "; ".join(r.describe(net.operator_cidr) for r in missing))
    if problems:
        pf.add(
            "security_group",
            FAIL,
            f"{group['GroupId']} ({group.get('GroupName')}): " + "; ".join(problems),
            "add the rules (or run 'bosh-install aws prepare' if it created the group)",
            field,
        )
    else:
        pf.add("security_group", PASS, f"{group['GroupId']} has the guide's five rules", field=field)
