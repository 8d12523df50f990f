"""Every invalid site file is refused before anything runs, with the site field to change.

Table-driven: each case edits the guide's example site (tests/support/deployfixtures.py) and names
the field the error must point at and words it must contain.  All problems are reported together.
"""

import os

import pytest
import yaml

from installer.deploy import prepared as deploy
from installer.state import StateDir
from tests.support.deployfixtures import GUIDE_SITE, make_fixture
from tests.support.paths import REPO


def _set(path, value):
    def edit(doc):
        node = doc
        keys = path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        if value is _DELETE:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value

    return edit


_DELETE = object()
IPS = ["10.0.0.10", "10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.14", "10.0.0.15", "10.0.0.16"]


def _ips(**changes):
    ips = list(IPS)
    for i, v in changes.items():
        ips[int(i[1:])] = v
    return _set("bosh.static_ips", ips)


CASES = [
    # (id, edit of the site document, site field named, words in the message)
    ("az-as-region", _set("aws.region", "us-east-1a"), "aws.region", "is an availability zone, not a region"),
    ("bad-region", _set("aws.region", "virginia"), "aws.region", "not an AWS region"),
    ("region-without-ami", _set("aws.region", "ap-south-1"), "aws.region", "has no AMI for ap-south-1"),
    ("region-as-az", _set("aws.availability_zone", "us-east-1"), "aws.availability_zone", "is a region"),
    ("az-other-region", _set("aws.availability_zone", "eu-west-1a"), "aws.availability_zone", "not in aws.region"),
    ("bad-az", _set("aws.availability_zone", "zone-a"), "aws.availability_zone", "not an availability zone"),
    ("hvm-m1", _set("microbosh.instance_type", "m1.large"), "microbosh.instance_type", "cannot run the HVM"),
    ("hvm-t1", _set("microbosh.instance_type", "t1.micro"), "microbosh.instance_type", "PV only"),
    ("hvm-c1", _set("microbosh.instance_type", "c1.medium"), "microbosh.instance_type", "cannot run the HVM"),
    ("hvm-m2", _set("microbosh.instance_type", "m2.xlarge"), "microbosh.instance_type", "cannot run the HVM"),
    ("bad-type", _set("microbosh.instance_type", "large"), "microbosh.instance_type", "not an EC2 instance type"),
    ("bad-bosh-type", _set("bosh.instance_type", "m3"), "bosh.instance_type", "not an EC2 instance type"),
    ("ip-outside", _set("microbosh.static_ip", "10.1.0.6"), "microbosh.static_ip", "outside network.cidr 10.0.0.0/24"),
    ("ip-aws-reserved", _set("microbosh.static_ip", "10.0.0.3"), "microbosh.static_ip", "reserved by AWS"),
    ("ip-broadcast", _set("microbosh.static_ip", "10.0.0.255"), "microbosh.static_ip", "reserved by AWS"),
    ("ip-garbage", _set("microbosh.static_ip", "10.0.0.300"), "microbosh.static_ip", "not an IPv4 address"),
    ("bosh-ip-outside", _ips(i2="10.0.1.12"), "bosh.static_ips[2]", "outside network.cidr"),
    ("bosh-ip-dup", _ips(i1="10.0.0.10"), "bosh.static_ips[0]", "given 2 times"),
    ("bosh-ip-is-microbosh", _ips(i0="10.0.0.6"), "bosh.static_ips[0]", "MicroBOSH's microbosh.static_ip"),
    ("bosh-ip-reserved", _ips(i3="10.0.0.4"), "bosh.static_ips[3]", "inside network.reserved"),
    ("bosh-ip-count", _set("bosh.static_ips", IPS[:6]), "bosh.static_ips", "give 7 addresses"),
    ("gateway-outside", _set("network.gateway", "10.0.1.1"), "network.gateway", "outside network.cidr"),
    ("gateway-network", _set("network.gateway", "10.0.0.0"), "network.gateway", "network or broadcast"),
    ("cidr-too-big", _set("network.cidr", "10.0.0.0/8"), "network.cidr", "between /16 and /28"),
    ("subnet-id", _set("network.subnet_id", "SUBNET-ID"), "network.subnet_id", "not a subnet id"),
    ("sg-id", _set("network.security_group", "sg-0a1b2c3d"), "network.security_group", "is a group id"),
    ("reserved-garbage", _set("network.reserved", ["10.0.0.9-10.0.0.2"]), "network.reserved[0]", "ends before"),
    ("reserved-outside", _set("network.reserved", ["10.9.0.2-10.9.0.5"]), "network.reserved[0]", "outside"),
    ("dns-garbage", _set("network.dns", ["dns.example"]), "network.dns[0]", "not an IPv4 address"),
    ("eip-private", _set("microbosh.elastic_ip", "10.0.0.50"), "microbosh.elastic_ip", "inside the private"),
    ("eip-rfc1918", _set("microbosh.elastic_ip", "192.168.1.5"), "microbosh.elastic_ip", "not a public address"),
    ("eip-shared", _set("bosh.elastic_ip", "52.99.9.99"), "bosh.elastic_ip", "MicroBOSH's microbosh.elastic_ip"),
    ("disk-zero", _set("microbosh.disk_size", 0), "microbosh.disk_size", "must be > 0"),
    ("workers-zero", _set("bosh.compilation_workers", 0), "bosh.compilation_workers", "at least 1"),
    (
        "workers-no-room",
        _set("network.reserved", ["10.0.0.4-10.0.0.9", "10.0.0.17-10.0.0.254"]),
        "bosh.compilation_workers",
        "free",
    ),
    ("ntp-empty", _set("ntp", []), "ntp", "at least one NTP"),
    ("no-credentials", _set("aws.access_key_id", _DELETE), "aws.profile", None),
    ("key-missing", _set("key_pair.private_key", "nope.pem"), "key_pair.private_key", "does not exist"),
]


def _site_text(edit):
    doc = yaml.safe_load(GUIDE_SITE)
    edit(doc)
    return yaml.safe_dump(doc, sort_keys=False)


def _problems(tmp_path, text):
    fx = make_fixture(tmp_path, text)
    paths = StateDir(tmp_path / "state", fx.payload)
    return fx, deploy.prepare(fx.site_path, fx.lock_path, paths, director_uuid=None).problems


def test_the_guide_site_has_no_problems(tmp_path):
    assert _problems(tmp_path, GUIDE_SITE)[1] == []


@pytest.mark.parametrize(("edit", "field", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_site_names_the_field(tmp_path, monkeypatch, edit, field, words):
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    text = _site_text(edit)
    if field == "aws.profile":  # keys removed: the secret alone is a structural error; drop both
        doc = yaml.safe_load(text)
        doc["aws"].pop("secret_access_key")
        text = yaml.safe_dump(doc, sort_keys=False)
    _, problems = _problems(tmp_path, text)
    hits = [p for p in problems if f": {field}: " in p]
    assert hits, f"no problem names {field}: {problems}"
    if words:
        assert any(words in p for p in hits), hits
    assert all("site.yml:" in p for p in hits)  # file and line


@pytest.mark.parametrize(
    ("mode", "words"), [(0o644, "has mode 0644"), (0o640, "chmod 400"), (0o400, None), (0o600, None)]
)
def test_private_key_mode(tmp_path, mode, words):
    fx = make_fixture(tmp_path)
    os.chmod(fx.key_path, mode)
    problems = deploy.prepare(fx.site_path, fx.lock_path, StateDir(tmp_path / "s", fx.payload)).problems
    if words is None:
        assert problems == []
    else:
        assert len(problems) == 1 and "key_pair.private_key" in problems[0] and words in problems[0]


def test_site_file_with_a_secret_key_must_be_private(tmp_path):
    fx = make_fixture(tmp_path)
    fx.site_path.chmod(0o644)
    problems = deploy.prepare(fx.site_path, fx.lock_path, StateDir(tmp_path / "s", fx.payload)).problems
    assert len(problems) == 1 and "aws.secret_access_key: " in problems[0] and "chmod 600" in problems[0]


def test_private_key_that_is_not_a_key(tmp_path):
    fx = make_fixture(tmp_path)
    fx.key_path.chmod(0o600)
    fx.key_path.write_text("ssh-rsa AAAA public key\n")
    problems = deploy.prepare(fx.site_path, fx.lock_path, StateDir(tmp_path / "s", fx.payload)).problems
    assert any("key_pair.private_key" in p and "not a PEM private key" in p for p in problems)


def test_the_documented_example_site_loads(tmp_path, monkeypatch):
    """manifests/site.example.yml documents every field; it must stay loadable by the site loader."""

    from installer.site.model import load_site

    example = REPO / "manifests" / "site.example.yml"
    site = load_site(example)
    assert site.bosh.static_ips[0] == "10.0.0.10" and len(site.bosh.static_ips) == 7
    assert site.network.gateway == "10.0.0.1" and site.network.dns == ("10.0.0.2",)


@pytest.mark.parametrize(
    ("region", "zone"),
    [("us-iso-east-1", "us-iso-east-1a"), ("us-isob-east-1", "us-isob-east-1a"), ("cn-north-1", "cn-north-1a"),
     ("eu-central-2", "eu-central-2b"), ("us-gov-west-1", "us-gov-west-1a")],
)  # fmt: skip
def test_a_region_of_every_partition_is_a_region_to_the_site_rules(tmp_path, region, zone):
    from installer.site.model import load_site
    from installer.site.rules import name_problems

    text = GUIDE_SITE.replace("region: us-east-1\n", f"region: {region}\n")
    fx = make_fixture(tmp_path, text.replace("availability_zone: us-east-1a", f"availability_zone: {zone}"))
    assert name_problems(load_site(fx.site_path)) == []
