"""The security group rules of the installation guide, and how to tell whether a group has them.

The guide's group opens SSH (22), the bosh-init agent (6868) and the director API (25555) to the
operator's address, and all TCP and all UDP between members of the group (MicroBOSH, the director
and the VMs they create talk to each other on many ports).  A rule counts as present when an
inbound permission covers it: same protocol or "all", a port range containing it, and a source
CIDR containing the operator's (or the group itself for the internal rules).  Imports only the
standard library.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17"}


@dataclass(frozen=True)
class Rule:
    protocol: str  # "tcp" or "udp"
    from_port: int
    to_port: int
    source: str  # "operator" (network.operator_cidr) or "group" (members of the group itself)
    purpose: str

    def describe(self, operator_cidr: str) -> str:
        ports = str(self.from_port) if self.from_port == self.to_port else f"{self.from_port}-{self.to_port}"
        source = operator_cidr if self.source == "operator" else "the group itself"
        return f"{self.protocol} {ports} from {source} ({self.purpose})"

    def permission(self, group_id: str, operator_cidr: str) -> dict[str, Any]:
        """The ``IpPermissions`` entry that grants this rule."""
        perm: dict[str, Any] = {"IpProtocol": self.protocol, "FromPort": self.from_port, "ToPort": self.to_port}
        if self.source == "operator":
            perm["IpRanges"] = [{"CidrIp": operator_cidr, "Description": self.purpose}]
        else:
            perm["UserIdGroupPairs"] = [{"GroupId": group_id, "Description": self.purpose}]
        return perm


GUIDE_RULES = (
    Rule("tcp", 22, 22, "operator", "SSH"),
    Rule("tcp", 6868, 6868, "operator", "bosh-init agent"),
    Rule("tcp", 25555, 25555, "operator", "BOSH director"),
    Rule("tcp", 0, 65535, "group", "all TCP inside the group"),
    Rule("udp", 0, 65535, "group", "all UDP inside the group"),
)


def _covers_ports(perm: Mapping[str, Any], rule: Rule) -> bool:
    proto = str(perm.get("IpProtocol", ""))
    if proto == "-1":
        return True
    if proto not in (rule.protocol, _PROTOCOL_NUMBERS[rule.protocol]):
        return False
    low, high = perm.get("FromPort"), perm.get("ToPort")
    return low is not None and high is not None and low <= rule.from_port and rule.to_port <= high


def _covers_source(perm: Mapping[str, Any], rule: Rule, group_id: str, operator_cidr: str) -> bool:
    if rule.source == "group":
        return any(pair.get("GroupId") == group_id for pair in perm.get("UserIdGroupPairs") or [])
    wanted = ipaddress.ip_network(operator_cidr, strict=False)
    for rng in perm.get("IpRanges") or []:
        try:
            have = ipaddress.ip_network(rng.get("CidrIp", ""), strict=False)
        except ValueError:
            continue
        if have.version == wanted.version and wanted.subnet_of(have):
            return True
    return False


def missing_rules(group: Mapping[str, Any], operator_cidr: str) -> list[Rule]:
    """The guide's rules that no inbound permission of ``group`` (a DescribeSecurityGroups entry) grants."""
    perms = group.get("IpPermissions") or []
    group_id = group.get("GroupId", "")
    return [
        rule
        for rule in GUIDE_RULES
        if not any(_covers_ports(p, rule) and _covers_source(p, rule, group_id, operator_cidr) for p in perms)
    ]
