"""AWS's naming rules: regions, availability zones, subnet ids, instance types and their families.

The one implementation of these rules; the site rules, the AWS preflight, ``aws prepare`` and the
stemcell check all ask here.  A region is a partition prefix (``us``, ``eu``, ``cn``, … optionally
with ``-gov``, ``-iso``, ``-isob``, ``-isoe``, ``-isof``; or ``eusc-de``), a direction and a number:
``us-east-1``, ``us-gov-west-1``, ``us-iso-east-1``, ``cn-north-1``, ``eu-central-2``.  An
availability zone is its region and one letter (``us-east-1a``); a Local Zone adds a location
before the letter (``us-west-2-lax-1a``).  An instance type is ``family.size``; the previous
generation families T1, C1, M1 and M2 run paravirtual AMIs only, so they cannot boot an HVM
stemcell (the light ``…-xen-hvm-…`` one).  Pure functions of strings: imports nothing of the project.
"""

from __future__ import annotations

import re

_PARTITION = r"(?:[a-z]{2}(?:-gov|-iso[a-z]?)?|eusc-[a-z]{2})"
_REGION = rf"{_PARTITION}-[a-z]+-\d+"
REGION_RE = re.compile(rf"^{_REGION}$")
ZONE_RE = re.compile(rf"^({_REGION})(?:-[a-z]+-\d+)?[a-z]$")
SUBNET_ID_RE = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")
INSTANCE_TYPE_RE = re.compile(r"^([a-z][a-z0-9-]*?)\.([a-z0-9]+)$")
PV_ONLY_FAMILIES = ("t1", "c1", "m1", "m2")  # cannot run HVM AMIs


def is_region(name: str | None) -> bool:
    return bool(REGION_RE.match(name or ""))


def region_of_zone(zone: str | None) -> str | None:
    """The region of availability zone ``zone``; None when ``zone`` is not a zone name."""
    match = ZONE_RE.match(zone or "")
    return match.group(1) if match else None


def is_subnet_id(value: str | None) -> bool:
    return bool(SUBNET_ID_RE.match(value or ""))


def instance_family(instance_type: str | None) -> str | None:
    """``m3`` for ``m3.xlarge``; None when the value is not an instance type name."""
    match = INSTANCE_TYPE_RE.match(instance_type or "")
    return match.group(1) if match else None


def is_pv_only(instance_type: str | None) -> bool:
    """Whether the type belongs to a family that runs paravirtual AMIs only (T1, C1, M1, M2)."""
    return instance_family(instance_type) in PV_ONLY_FAMILIES


def stemcell_virtualization(stemcell_name: str) -> str:
    """``hvm`` for ``…-xen-hvm-…`` stemcells, ``paravirtual`` otherwise (the full 3147 is PV)."""
    return "hvm" if "hvm" in stemcell_name.split("-") else "paravirtual"
