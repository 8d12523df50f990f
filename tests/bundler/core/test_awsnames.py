"""AWS's names, one rule for every caller: real regions are regions, their zones are zones, nothing else is."""

import pytest

from bundler.core.awsnames import (
    instance_family,
    is_pv_only,
    is_region,
    is_subnet_id,
    region_of_zone,
    stemcell_virtualization,
)

REAL_REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-northeast-1",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-4",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isof-south-1",
    "eu-isoe-west-1",
    "eusc-de-east-1",
]

# (zone, its region)
REAL_ZONES = [
    ("us-east-1a", "us-east-1"),
    ("us-east-1f", "us-east-1"),
    ("eu-central-2b", "eu-central-2"),
    ("ap-southeast-4c", "ap-southeast-4"),
    ("cn-north-1a", "cn-north-1"),
    ("cn-northwest-1b", "cn-northwest-1"),
    ("us-gov-west-1a", "us-gov-west-1"),
    ("us-iso-east-1a", "us-iso-east-1"),
    ("us-isob-east-1a", "us-isob-east-1"),
    ("us-west-2-lax-1a", "us-west-2"),  # a Local Zone
]

NEITHER = ["", "virginia", "zone-a", "us-east", "us-east-1-", "US-EAST-1", "us_east_1", "us-east-1ab", "1-east-us"]


@pytest.mark.parametrize("name", REAL_REGIONS)
def test_every_real_region_is_a_region_and_not_a_zone(name):
    assert is_region(name)
    assert region_of_zone(name) is None


@pytest.mark.parametrize(("zone", "region"), REAL_ZONES)
def test_every_real_zone_is_a_zone_of_its_region_and_not_a_region(zone, region):
    assert region_of_zone(zone) == region
    assert not is_region(zone)


@pytest.mark.parametrize("name", NEITHER)
def test_other_strings_are_neither(name):
    assert not is_region(name)
    assert region_of_zone(name) is None


def test_instance_types_and_their_families():
    assert instance_family("m3.xlarge") == "m3" and instance_family("c5n.18xlarge") == "c5n"
    assert instance_family("u-6tb1.metal") == "u-6tb1"
    assert instance_family("large") is None and instance_family("m3") is None and instance_family(None) is None
    assert all(is_pv_only(t) for t in ("t1.micro", "c1.medium", "m1.small", "m2.xlarge"))
    assert not any(is_pv_only(t) for t in ("m3.medium", "t2.micro", "m4.large", "c3.large", "m10.large"))


def test_subnet_ids_and_stemcell_virtualization():
    assert is_subnet_id("subnet-e8d03a9e") and is_subnet_id("subnet-0123456789abcdef0")
    assert not is_subnet_id("SUBNET-ID") and not is_subnet_id("subnet-") and not is_subnet_id(None)
    assert stemcell_virtualization("bosh-aws-xen-hvm-ubuntu-trusty-go_agent") == "hvm"
    assert stemcell_virtualization("bosh-aws-xen-ubuntu-trusty-go_agent") == "paravirtual"
