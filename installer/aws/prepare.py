"""``prepare``: create and reuse the guide's AWS resources for a site.

Section 5.2 of the guide has the operator create, in the console, a VPC with one public subnet
(internet gateway and default route), an elastic IP, a key pair and a security group with five
rules. ``prepare`` does the same for whatever the site file does not already name, tagging each
resource it creates with ``bosh-offline:owner = <site name>`` (``installer.aws.owned``). A second
run finds the tagged resources and reuses them, and repairs what it owns (a missing rule, a missing
route, a key pair that no longer matches the local key, its elastic IP taken by another VM);
resources it did not create are used as they are and their problems reported, never changed. It
writes the resulting ids into the site file (``network.vpc_id``, ``network.subnet_id``,
``network.security_group_id``, ``microbosh.elastic_ip``), keeping its comments. Its undoing is
``installer.aws.teardown``. With ``dry_run`` it makes only Describe calls and reports what it would
do: a resource it would create stands in as a placeholder (``<new vpc>``) for the steps after it, so
the plan names the first missing resource and everything that follows from it. Imports the session,
the key reader, the guide's rules, the site file writer, the site model and the site rules (region
and zone names).
"""

from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path
from typing import Any

from bundler.core.errors import BundleError
from bundler.core.yamlfile import raise_problems
from installer.aws.keys import read_local_key
from installer.aws.owned import Outcome, owned, owner_filter, placeholder, planned, tag_spec, tags
from installer.aws.rules import missing_rules
from installer.aws.session import AWS_ERRORS, AwsError, Clients, error_code, error_text
from installer.aws.sitefile import set_values
from installer.site.model import Site
from installer.site.rules import name_problems

log = logging.getLogger(__name__)


def _vpc_cidr(cidr: str) -> str:
    net = ipaddress.ip_network(cidr, strict=False)
    return str(net.supernet(new_prefix=16)) if net.prefixlen > 16 else str(net)


def check_names(site: Site) -> None:
    """``InputError`` when aws.region is not a region or aws.availability_zone not one of its zones."""
    raise_problems([f"{site.where(p.where)}: {p.message}" for p in name_problems(site)])


def prepare(site: Site, clients: Clients, *, write_site: bool = True, dry_run: bool = False) -> Outcome:
    """Create what the site lacks, reuse what exists; raises ``AwsError`` if AWS refuses a step.

    With ``dry_run`` nothing is created or written: the outcome says what would be."""
    check_names(site)
    run = _Prepare(site, clients, dry_run)
    try:
        run.all()
    except AWS_ERRORS as exc:
        raise AwsError(f"prepare stopped at '{run.step}': {error_text(exc)}") from None
    updates = ", ".join(sorted(run.outcome.site_updates))
    if dry_run and updates:
        run.outcome.actions.append(f"would write {updates} into {site.path}")
    elif write_site and updates:
        set_values(site.path, run.outcome.site_updates)
        run.outcome.actions.append(f"wrote {updates} into {site.path}")
    return run.outcome


class _Prepare:
    def __init__(self, site: Site, clients: Clients, dry_run: bool = False):
        self.site, self.ec2, self.dry_run = site, clients.ec2, dry_run
        self.outcome = Outcome(dry_run=dry_run)
        self.step = "start"
        self.vpc: dict[str, Any] = {}
        self.subnet: dict[str, Any] = {}

    def note(self, text: str, planned: str = "") -> None:
        """Record what was done (``text``); a dry run records ``would <planned>`` instead, if given."""
        if self.dry_run:
            text = f"would {planned}" if planned else ""
        if text:
            log.info("%s", text)
            self.outcome.actions.append(text)

    def change(self, call: str, planned: str, **kwargs: Any) -> dict[str, Any]:
        """One EC2 call that changes the account; a dry run notes ``would <planned>`` and makes none."""
        if not self.dry_run:
            return getattr(self.ec2, call)(**kwargs)
        self.note("", planned)
        return placeholder(call, kwargs)

    def update(self, key: str, value: str | None, current: str | None) -> None:
        if (current or None) != (value or None):
            self.outcome.site_updates[key] = value

    def all(self) -> None:
        for step in (self.do_vpc, self.do_subnet, self.do_gateway, self.do_elastic_ip, self.do_key_pair, self.do_group):
            self.step = step.__name__.removeprefix("do_").replace("_", " ")
            step()

    def _find(self, call: str, key: str, *filters: dict[str, Any]) -> list[dict[str, Any]]:
        return getattr(self.ec2, call)(Filters=[owner_filter(self.site), *filters])[key]

    def do_vpc(self) -> None:
        net = self.site.network
        if net.vpc_id:
            vpcs = self._describe("describe_vpcs", "Vpcs", "VpcIds", net.vpc_id, "InvalidVpcID")
            if not vpcs:
                raise BundleError(
                    f"{self.site.where('network.vpc_id')}: {net.vpc_id} does not exist; correct or empty it"
                )
            self.vpc = vpcs[0]
        elif net.subnet_id:
            subnets = self._describe("describe_subnets", "Subnets", "SubnetIds", net.subnet_id, "InvalidSubnetID")
            if not subnets:
                raise BundleError(
                    f"{self.site.where('network.subnet_id')}: {net.subnet_id} does not exist; correct it, or empty "
                    "it to have prepare create a subnet"
                )
            self.subnet = subnets[0]
            self.vpc = self.ec2.describe_vpcs(VpcIds=[self.subnet["VpcId"]])["Vpcs"][0]
        else:
            found = self._find("describe_vpcs", "Vpcs")
            if found:
                self.vpc = found[0]
                self.note(f"reused vpc {self.vpc['VpcId']}", f"reuse vpc {self.vpc['VpcId']}")
            else:
                cidr = _vpc_cidr(net.cidr)
                tagged = tag_spec(self.site, "vpc", "vpc")
                self.vpc = self.change("create_vpc", f"create a vpc ({cidr})", CidrBlock=cidr, TagSpecifications=tagged)
                self.vpc = self.vpc["Vpc"]
                self.note(f"created vpc {self.vpc['VpcId']} ({cidr})")
        self.update("network.vpc_id", self.vpc["VpcId"], net.vpc_id)

    def _describe(self, call: str, key: str, param: str, value: str, not_found: str) -> list[dict[str, Any]]:
        try:
            return getattr(self.ec2, call)(**{param: [value]})[key]
        except AWS_ERRORS as exc:
            if error_code(exc).startswith(not_found):
                return []
            raise

    def do_subnet(self) -> None:
        net, vpc_id = self.site.network, self.vpc["VpcId"]
        if not self.subnet and net.subnet_id:
            subnets = self._describe("describe_subnets", "Subnets", "SubnetIds", net.subnet_id, "InvalidSubnetID")
            if not subnets:
                raise BundleError(f"{self.site.where('network.subnet_id')}: {net.subnet_id} does not exist")
            self.subnet = subnets[0]
        if not self.subnet:
            in_vpc = {"Name": "vpc-id", "Values": [vpc_id]}
            found = [] if planned(self.vpc) else self._find("describe_subnets", "Subnets", in_vpc)
            zone = self.site.aws.availability_zone
            if found:
                self.subnet = found[0]
                self.note(f"reused subnet {self.subnet['SubnetId']}", f"reuse subnet {self.subnet['SubnetId']}")
            else:
                self.subnet = self.change(
                    "create_subnet",
                    f"create a subnet ({net.cidr} in {zone})",
                    VpcId=vpc_id,
                    CidrBlock=net.cidr,
                    AvailabilityZone=self.site.aws.availability_zone,
                    TagSpecifications=tag_spec(self.site, "subnet", "subnet"),
                )["Subnet"]
                self.note(f"created subnet {self.subnet['SubnetId']} ({net.cidr} in {zone})")
        if self.subnet["VpcId"] != vpc_id:
            raise BundleError(
                f"{self.site.where('network.subnet_id')}: {self.subnet['SubnetId']} is in {self.subnet['VpcId']}, "
                f"not in network.vpc_id {vpc_id}"
            )
        for what, have, want in (
            ("availability zone", self.subnet["AvailabilityZone"], self.site.aws.availability_zone),
            ("CIDR", self.subnet["CidrBlock"], net.cidr),
        ):
            if have != want:
                self.outcome.problems.append(
                    f"subnet {self.subnet['SubnetId']} has {what} {have}, the site file says {want}"
                    + (": prepare does not move subnets" if owned(self.subnet, self.site) else "")
                )
        self.update("network.subnet_id", self.subnet["SubnetId"], net.subnet_id)

    def do_gateway(self) -> None:
        vpc_id = self.vpc["VpcId"]
        if not owned(self.vpc, self.site):
            return  # routing of a VPC we did not create is the operator's
        gateways = self._find("describe_internet_gateways", "InternetGateways")
        igw = next(
            (g for g in gateways if any(a.get("VpcId") == vpc_id for a in g.get("Attachments") or [])),
            gateways[0] if gateways else None,
        )
        if igw is None:
            tagged = tag_spec(self.site, "internet-gateway", "igw")
            igw = self.change("create_internet_gateway", "create an internet gateway", TagSpecifications=tagged)
            igw = igw["InternetGateway"]
            self.note(f"created internet gateway {igw['InternetGatewayId']}")
        gid = igw["InternetGatewayId"]
        if not any(a.get("VpcId") == vpc_id for a in igw.get("Attachments") or []):
            self.change("attach_internet_gateway", f"attach {gid} to {vpc_id}", InternetGatewayId=gid, VpcId=vpc_id)
            self.note(f"attached {gid} to {vpc_id}")
        tables = self._main_route_tables(vpc_id)
        if not tables:
            return
        table = tables[0]
        default = next((r for r in table.get("Routes") or [] if r.get("DestinationCidrBlock") == "0.0.0.0/0"), None)
        args = {
            "RouteTableId": table["RouteTableId"],
            "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": igw["InternetGatewayId"],
        }
        if default is None:
            self.change("create_route", f"add the default route via {gid} to {table['RouteTableId']}", **args)
            self.note(f"added the default route via {gid} to {table['RouteTableId']}")
        elif default.get("GatewayId") != gid or default.get("State") == "blackhole":
            self.change("replace_route", f"point the default route of {table['RouteTableId']} at {gid}", **args)
            self.note(f"pointed the default route of {table['RouteTableId']} at {gid}")

    def _main_route_tables(self, vpc_id: str) -> list[dict[str, Any]]:
        """The VPC's main route table; a new VPC comes with one that has no default route."""
        if planned(self.vpc):
            return [{"RouteTableId": "<main route table of the new vpc>", "Routes": []}]
        main = [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}]
        return self.ec2.describe_route_tables(Filters=main)["RouteTables"]

    def do_elastic_ip(self) -> None:
        eip = self.site.microbosh.elastic_ip
        if eip:
            addresses = self._describe("describe_addresses", "Addresses", "PublicIps", eip, "InvalidAddress")
            if not addresses:
                raise BundleError(
                    f"{self.site.where('microbosh.elastic_ip')}: {eip} is not allocated to this account in "
                    f"{self.site.aws.region}; correct it, or empty it to have prepare allocate one"
                )
            self._free_for_microbosh(addresses[0])
            return
        found = self._find("describe_addresses", "Addresses")
        if found:
            address = found[0]
            self.note(f"reused elastic IP {address['PublicIp']}", f"reuse elastic IP {address['PublicIp']}")
            self._free_for_microbosh(address)
        else:
            tagged = tag_spec(self.site, "elastic-ip", "eip")
            address = self.change("allocate_address", "allocate an elastic IP", Domain="vpc", TagSpecifications=tagged)
            self.note(f"allocated elastic IP {address['PublicIp']}")
        self.update("microbosh.elastic_ip", address["PublicIp"], eip)

    def _free_for_microbosh(self, address: dict[str, Any]) -> None:
        """MicroBOSH's elastic IP on another VM: taken back if prepare allocated it, else reported."""
        private = address.get("PrivateIpAddress")
        if not address.get("AssociationId") or private == self.site.microbosh.static_ip:
            return
        holder = f"{address.get('InstanceId') or address.get('NetworkInterfaceId')} ({private})"
        if not owned(address, self.site):
            self.outcome.problems.append(
                f"elastic IP {address['PublicIp']} is on {holder}, not on MicroBOSH, and was not allocated by "
                "prepare: disassociate it or use another"
            )
            return
        what = f"elastic IP {address['PublicIp']} from {holder}: it is MicroBOSH's"
        self.change("disassociate_address", f"disassociate {what}", AssociationId=address["AssociationId"])
        self.note(f"disassociated {what}")

    def do_key_pair(self) -> None:
        kp = self.site.key_pair
        pairs = self._describe("describe_key_pairs", "KeyPairs", "KeyNames", kp.name, "InvalidKeyPair")
        pair = pairs[0] if pairs else None
        local = read_local_key(kp.private_key) if kp.private_key.exists() else None
        if pair and local:
            if local.matches(pair.get("KeyFingerprint", "")):
                return
            if not owned(pair, self.site):
                self.outcome.problems.append(
                    f"key pair {kp.name!r} does not match {kp.private_key} and was not created by prepare: "
                    "point key_pair.private_key at its private key, or delete the key pair"
                )
                return
            why = f"key pair {kp.name!r}: it no longer matched {kp.private_key}"
            self.change("delete_key_pair", f"delete {why}", KeyName=kp.name)
            pair = None
            self.note(f"deleted {why}")
        if pair and not local:
            if not owned(pair, self.site):
                self.outcome.problems.append(
                    f"key pair {kp.name!r} exists but {kp.private_key} does not: AWS cannot give its private key "
                    "back; point key_pair.private_key at it, or delete the key pair"
                )
                return
            why = f"key pair {kp.name!r}: its private key {kp.private_key} is gone"
            self.change("delete_key_pair", f"delete {why}", KeyName=kp.name)
            self.note(f"deleted {why}")
        if local:
            self.change(
                "import_key_pair",
                f"import {kp.private_key} as key pair {kp.name!r}",
                KeyName=kp.name,
                PublicKeyMaterial=local.public_openssh.encode(),
                TagSpecifications=tag_spec(self.site, "key-pair", "key"),
            )
            self.note(f"imported {kp.private_key} as key pair {kp.name!r}")
            return
        plan = f"create key pair {kp.name!r} and write its private key to {kp.private_key}"
        tagged = tag_spec(self.site, "key-pair", "key")
        made = self.change("create_key_pair", plan, KeyName=kp.name, TagSpecifications=tagged)
        if self.dry_run:
            return
        _write_private_key(kp.private_key, made["KeyMaterial"])
        self.note(f"created key pair {kp.name!r}; private key written to {kp.private_key} (mode 0400)")

    def do_group(self) -> None:
        net, vpc_id = self.site.network, self.vpc["VpcId"]
        if net.security_group_id:
            groups = self._describe(
                "describe_security_groups", "SecurityGroups", "GroupIds", net.security_group_id, "InvalidGroup"
            )
            if not groups:
                raise BundleError(
                    f"{self.site.where('network.security_group_id')}: {net.security_group_id} does not exist; "
                    "correct it, or empty it to have prepare create the group"
                )
        elif planned(self.vpc):
            groups = []
        else:
            groups = self.ec2.describe_security_groups(
                Filters=[{"Name": "group-name", "Values": [net.security_group]}, {"Name": "vpc-id", "Values": [vpc_id]}]
            )["SecurityGroups"]
        if groups:
            group = groups[0]
        else:
            made = self.change(
                "create_security_group",
                f"create security group {net.security_group} in {vpc_id}",
                GroupName=net.security_group,
                Description="BOSH: SSH, bosh-init and director from the operator; all inside the group",
                VpcId=vpc_id,
                TagSpecifications=tag_spec(self.site, "security-group", "sg"),
            )
            group = {"GroupId": made["GroupId"], "Tags": tags(self.site, "sg"), "IpPermissions": []}
            self.note(f"created security group {made['GroupId']} ({net.security_group}) in {vpc_id}")
        missing = missing_rules(group, net.operator_cidr)
        if missing and owned(group, self.site):
            rules = "; ".join(r.describe(net.operator_cidr) for r in missing)
            self.change(
                "authorize_security_group_ingress",
                f"add {len(missing)} rule(s) to {group['GroupId']}: {rules}",
                GroupId=group["GroupId"],
                IpPermissions=[r.permission(group["GroupId"], net.operator_cidr) for r in missing],
            )
            for rule in missing:
                self.note(f"added rule {rule.describe(net.operator_cidr)} to {group['GroupId']}")
        elif missing:
            self.outcome.problems.append(
                f"security group {group['GroupId']} was not created by prepare and lacks: "
                + "; ".join(r.describe(net.operator_cidr) for r in missing)
            )
        self.update("network.security_group_id", group["GroupId"], net.security_group_id)


def _write_private_key(path: Path, material: str) -> None:
    if path.exists():
        raise BundleError(f"{path} already exists; refusing to overwrite a private key")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(material if material.endswith("\n") else material + "\n")
    os.chmod(path, 0o400)
