"""``teardown``: remove exactly the AWS resources ``aws prepare`` created for a site.

It deletes the resources tagged ``bosh-offline:owner = <site name>`` (``installer.aws.owned``), in
dependency order (elastic IPs, key pairs, security groups, subnets, internet gateways, VPCs),
after checking that no instance still runs in them, and empties the ids it removed in the site
file (keeping its comments).  Resources it did not create are never touched.  With ``dry_run`` it
lists what it would delete and deletes nothing.  Imports the
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


def teardown(site: Site, clients: Clients, *, write_site: bool = True, dry_run: bool = False) -> Outcome:
    """Delete every resource tagged as this site's, and nothing else (with ``dry_run``, say which)."""
    check_names(site)
    run = _Teardown(site, clients.ec2, dry_run)
    try:
        run.all()
    except AWS_ERRORS as exc:
        raise AwsError(f"teardown stopped at {run.step}: {error_text(exc)}") from None
    outcome = run.outcome
    emptied = ", ".join(sorted(outcome.site_updates))
    if dry_run and emptied:
        outcome.actions.append(f"would empty {emptied} in {site.path}")
    elif write_site and emptied:
        set_values(site.path, outcome.site_updates)
        outcome.actions.append(f"emptied {emptied} in {site.path}")
    if not outcome.actions:
        outcome.actions.append(f"nothing tagged {OWNER_TAG}={site.name} in {site.aws.region}")
    return outcome


class _Teardown:
    def __init__(self, site: Site, ec2: Any, dry_run: bool = False):
        self.site, self.ec2, self.dry_run = site, ec2, dry_run
        self.outcome = Outcome(dry_run=dry_run)
        self.owner = [owner_filter(site)]
        self.step = "listing"

    def delete(
        self, verb: str, what: str, *calls: tuple[str, dict[str, Any]], site_key: str = "", value: str = ""
    ) -> None:
        """Make ``calls`` (a dry run makes none) and record "<verb>ed <what>" ("would <verb> <what>");
        empty ``site_key`` in the site file when it named the deleted ``value``."""
        if self.dry_run:
            self.outcome.actions.append(f"would {verb} {what}")
        else:
            for call, kwargs in calls:
                getattr(self.ec2, call)(**kwargs)
            self.outcome.actions.append(f"{verb}d {what}")  # released, deleted
        if site_key and _current(self.site, site_key) == value:
            self.outcome.site_updates[site_key] = None

    def all(self) -> None:
        vpcs = self.ec2.describe_vpcs(Filters=self.owner)["Vpcs"]
        subnets = self.ec2.describe_subnets(Filters=self.owner)["Subnets"]
        self.refuse_while_running([v["VpcId"] for v in vpcs], [s["SubnetId"] for s in subnets])
        self.step = "elastic IPs"
        for address in self.ec2.describe_addresses(Filters=self.owner)["Addresses"]:
            eip = address["PublicIp"]
            calls = [("release_address", {"AllocationId": address["AllocationId"]})]
            if address.get("AssociationId"):
                calls.insert(0, ("disassociate_address", {"AssociationId": address["AssociationId"]}))
            self.delete("release", f"elastic IP {eip}", *calls, site_key="microbosh.elastic_ip", value=eip)
        self.step = "key pairs"
        kept = self.site.key_pair.private_key
        for pair in self.ec2.describe_key_pairs(Filters=self.owner)["KeyPairs"]:
            what = f"key pair {pair['KeyName']!r} (the private key file {kept} is kept)"
            self.delete("delete", what, ("delete_key_pair", {"KeyName": pair["KeyName"]}))
        self.step = "security groups"
        for group in self.ec2.describe_security_groups(Filters=self.owner)["SecurityGroups"]:
            gid = group["GroupId"]
            call = ("delete_security_group", {"GroupId": gid})
            self.delete("delete", f"security group {gid}", call, site_key="network.security_group_id", value=gid)
        self.step = "subnets"
        for subnet in subnets:
            sid = subnet["SubnetId"]
            self.delete(
                "delete", f"subnet {sid}", ("delete_subnet", {"SubnetId": sid}), site_key="network.subnet_id", value=sid
            )
        self.step = "internet gateways"
        for igw in self.ec2.describe_internet_gateways(Filters=self.owner)["InternetGateways"]:
            gid = igw["InternetGatewayId"]
            detach = [
                ("detach_internet_gateway", {"InternetGatewayId": gid, "VpcId": a["VpcId"]})
                for a in igw.get("Attachments") or []
            ]
            self.delete(
                "delete", f"internet gateway {gid}", *detach, ("delete_internet_gateway", {"InternetGatewayId": gid})
            )
        self.step = "VPCs"
        for vpc in vpcs:
            vid = vpc["VpcId"]
            self.delete("delete", f"vpc {vid}", ("delete_vpc", {"VpcId": vid}), site_key="network.vpc_id", value=vid)

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


def _current(site: Site, key: str) -> str | None:
    """The site file's value of one of the ids teardown may empty."""
    return {
        "microbosh.elastic_ip": site.microbosh.elastic_ip,
        "network.security_group_id": site.network.security_group_id,
        "network.subnet_id": site.network.subnet_id,
        "network.vpc_id": site.network.vpc_id,
    }[key]
