"""What ``aws prepare`` owns in an account, and what a prepare or teardown run reports.

Every resource prepare creates is tagged ``bosh-offline:owner = <site name>`` (and ``Name =
<site>-<what>``); ``owner_filter`` finds them again, ``owned`` tells a resource prepare made from
one it found; ``placeholder`` is what a dry run of prepare holds for a resource it would create.
``Outcome`` lists what a run did, what it could not fix and the site file values it wrote back.
Imports the site model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from installer.site.model import Site

OWNER_TAG = "bosh-offline:owner"


@dataclass
class Outcome:
    """What a prepare or teardown run did, for the CLI to print."""

    actions: list[str] = field(default_factory=list)  # "created vpc vpc-…", "reused …", "deleted …"
    problems: list[str] = field(default_factory=list)  # what it could not fix (resources it does not own)
    site_updates: dict[str, str | None] = field(default_factory=dict)
    dry_run: bool = False  # actions say what would be done ("would create …"); nothing was

    def to_json(self) -> dict[str, Any]:
        return {
            "actions": self.actions,
            "dry_run": self.dry_run,
            "problems": self.problems,
            "site_updates": self.site_updates,
        }


def tags(site: Site, what: str) -> list[dict[str, str]]:
    return [{"Key": OWNER_TAG, "Value": site.name}, {"Key": "Name", "Value": f"{site.name}-{what}"}]


def tag_spec(site: Site, resource_type: str, what: str) -> list[dict[str, Any]]:
    """``TagSpecifications`` for a create call."""
    return [{"ResourceType": resource_type, "Tags": tags(site, what)}]


def owner_filter(site: Site) -> dict[str, Any]:
    return {"Name": f"tag:{OWNER_TAG}", "Values": [site.name]}


def owned(resource: dict[str, Any], site: Site) -> bool:
    return any(t.get("Key") == OWNER_TAG and t.get("Value") == site.name for t in resource.get("Tags") or [])


# What a dry run hands back for a create call: (response key, id field, placeholder id).
_NEW = {
    "create_vpc": ("Vpc", "VpcId", "<new vpc>"),
    "create_subnet": ("Subnet", "SubnetId", "<new subnet>"),
    "create_internet_gateway": ("InternetGateway", "InternetGatewayId", "<new internet gateway>"),
    "allocate_address": ("", "PublicIp", "<new elastic IP>"),
    "create_security_group": ("", "GroupId", "<new security group>"),
}
_KEPT = ("VpcId", "CidrBlock", "AvailabilityZone")


def placeholder(call: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The response a create call would give, with a placeholder id, marked ``planned``."""
    if call not in _NEW:
        return {}
    key, id_field, value = _NEW[call]
    resource = {k: v for k, v in kwargs.items() if k in _KEPT}
    resource.update({id_field: value, "Attachments": [], "planned": True})
    resource["Tags"] = kwargs["TagSpecifications"][0]["Tags"] if "TagSpecifications" in kwargs else []
    return {key: resource} if key else resource


def planned(resource: dict[str, Any]) -> bool:
    """A resource a dry run would create: AWS has nothing in it or attached to it yet."""
    return bool(resource.get("planned"))
