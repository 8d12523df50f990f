"""``teardown``: remove exactly the AWS resources ``aws prepare`` created for a site.

It deletes the resources tagged ``bosh-offline:owner = <site name>`` (``installer.aws.owned``), in
dependency order (elastic IPs, key pairs, security groups, subnets, internet gateways, VPCs),
after checking that no instance still runs in them, and empties the ids it removed in the site
file (keeping its comments).  Resources it did not create are never touched.  Imports the
session, the owner tags, the site file writer, the site model and ``prepare.check_names``.
"""

from __future__ import annotations

from typing import Any

from bundler.core.errors import BundleError
from installer.aws.owned import OWNER_TAG, Outcome, owner_filter
from installer.aws.prepare import check_names
from installer.aws.session import AWS_ERRORS, AwsError, Clients, error_text
from installer.aws.sitefile import set_values
from installer.site.model import Site


def teardown(site: Site, clients: Clients, *, write_site: bool = True) -> Outcome:
    """Delete every resource tagged as this site's, and nothing else."""
    check_names(site)
    run = _Teardown(site, clients.ec2)
    try:
        run.all()
    except AWS_ERRORS as exc:
        raise AwsError(f"teardown stopped at {run.step}: {error_text(exc)}") from None
    outcome = run.outcome
    if write_site and outcome.site_updates:
        set_values(site.path, outcome.site_updates)
        outcome.actions.append(f"emptied {', '.join(sorted(outcome.site_updates))} in {site.path}")
    if not outcome.actions:
        outcome.actions.append(f"nothing tagged {OWNER_TAG}={site.name} in {site.aws.region}")
    return outcome


class _Teardown:
    def __init__(self, site: Site, ec2: Any):
        self.site, self.ec2 = site, ec2
        self.outcome = Outcome()
        self.owner = [owner_filter(site)]
        self.step = "listing"

    def done(self, text: str, site_key: str | None = None, current: str | None = None, value: str = "") -> None:
        """Record an action; empty ``site_key`` in the site file when it named the deleted ``value``."""
        self.outcome.actions.append(text)
        if site_key and current == value:
            self.outcome.site_updates[site_key] = None

    def all(self) -> None:
        vpcs = self.ec2.describe_vpcs(Filters=self.owner)["Vpcs"]
        subnets = self.ec2.describe_subnets(Filters=self.owner)["Subnets"]
        self.refuse_while_running([v["VpcId"] for v in vpcs], [s["SubnetId"] for s in subnets])
        self.step = "elastic IPs"
        for address in self.ec2.describe_addresses(Filters=self.owner)["Addresses"]:
            if address.get("AssociationId"):
                self.ec2.disassociate_address(AssociationId=address["AssociationId"])
            self.ec2.release_address(AllocationId=address["AllocationId"])
            eip = address["PublicIp"]
            self.done(f"released elastic IP {eip}", "microbosh.elastic_ip", self.site.microbosh.elastic_ip, eip)
        self.step = "key pairs"
        for pair in self.ec2.describe_key_pairs(Filters=self.owner)["KeyPairs"]:
            self.ec2.delete_key_pair(KeyName=pair["KeyName"])
            kept = self.site.key_pair.private_key
            self.done(f"deleted key pair {pair['KeyName']!r} (the private key file {kept} is kept)")
        self.step = "security groups"
        net = self.site.network
        for group in self.ec2.describe_security_groups(Filters=self.owner)["SecurityGroups"]:
            gid = group["GroupId"]
            self.ec2.delete_security_group(GroupId=gid)
            self.done(f"deleted security group {gid}", "network.security_group_id", net.security_group_id, gid)
        self.step = "subnets"
        for subnet in subnets:
            self.ec2.delete_subnet(SubnetId=subnet["SubnetId"])
            sid = subnet["SubnetId"]
            self.done(f"deleted subnet {sid}", "network.subnet_id", net.subnet_id, sid)
        self.step = "internet gateways"
        for igw in self.ec2.describe_internet_gateways(Filters=self.owner)["InternetGateways"]:
            for attachment in igw.get("Attachments") or []:
                self.ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=attachment["VpcId"])
            self.ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
            self.done(f"deleted internet gateway {igw['InternetGatewayId']}")
        self.step = "VPCs"
        for vpc in vpcs:
            self.ec2.delete_vpc(VpcId=vpc["VpcId"])
            self.done(f"deleted vpc {vpc['VpcId']}", "network.vpc_id", net.vpc_id, vpc["VpcId"])

    def refuse_while_running(self, vpc_ids: list[str], subnet_ids: list[str]) -> None:
        for flt in ({"Name": "vpc-id", "Values": vpc_ids}, {"Name": "subnet-id", "Values": subnet_ids}):
            if not flt["Values"]:
                continue
            running = [
                i["InstanceId"]
                for r in self.ec2.describe_instances(Filters=[flt])["Reservations"]
                for i in r["Instances"]
                if i.get("State", {}).get("Name") not in ("terminated", "shutting-down")
            ]
            if running:
                raise BundleError(
                    f"instances still run in the site's network ({', '.join(sorted(running))}): delete the "
                    "deployments first (bosh-install destroy), then tear down"
                )
