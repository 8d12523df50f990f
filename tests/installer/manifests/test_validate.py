"""Every invalid site file is refused before anything runs, with the site field to change.

Table-driven: each case edits the guide's example site (tests/support/deployfixtures.py) and names
the field the error must point at and words it must contain.  All problems are reported together.
"""

import os

import pytest
import yaml

from bundler.core.errors import InputError
from installer.deploy import driver as deploy
from installer.manifests.validate import bosh_init_problems, v1_problems
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
    paths = deploy.Paths(tmp_path / "state", fx.payload)
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
    problems = deploy.prepare(fx.site_path, fx.lock_path, deploy.Paths(tmp_path / "s", fx.payload)).problems
    if words is None:
        assert problems == []
    else:
        assert len(problems) == 1 and "key_pair.private_key" in problems[0] and words in problems[0]


def test_site_file_with_a_secret_key_must_be_private(tmp_path):
    fx = make_fixture(tmp_path)
    fx.site_path.chmod(0o644)
    problems = deploy.prepare(fx.site_path, fx.lock_path, deploy.Paths(tmp_path / "s", fx.payload)).problems
    assert len(problems) == 1 and "aws.secret_access_key: " in problems[0] and "chmod 600" in problems[0]


def test_private_key_that_is_not_a_key(tmp_path):
    fx = make_fixture(tmp_path)
    fx.key_path.chmod(0o600)
    fx.key_path.write_text("ssh-rsa AAAA public key\n")
    problems = deploy.prepare(fx.site_path, fx.lock_path, deploy.Paths(tmp_path / "s", fx.payload)).problems
    assert any("key_pair.private_key" in p and "not a PEM private key" in p for p in problems)


def test_all_problems_are_reported_together(tmp_path):
    doc = yaml.safe_load(GUIDE_SITE)
    doc["aws"]["region"] = "us-east-1a"
    doc["microbosh"]["static_ip"] = "10.1.0.6"
    doc["microbosh"]["instance_type"] = "m1.small"
    _, problems = _problems(tmp_path, yaml.safe_dump(doc))
    fields = {p.split(": ")[1] for p in problems}
    assert {"aws.region", "microbosh.static_ip", "microbosh.instance_type"} <= fields
    with pytest.raises(InputError, match="problems:"):
        from installer.manifests.validate import raise_if_any

        raise_if_any(problems)


def test_vars_store_inside_the_payload_is_refused(tmp_path):
    fx = make_fixture(tmp_path, GUIDE_SITE.replace("vars_store: vars/vars.yml", "vars_store: payload/vars.yml"))
    problems = deploy.prepare(fx.site_path, fx.lock_path, deploy.Paths(tmp_path / "s", fx.payload)).problems
    assert any(": vars_store: " in p and "inside the extracted payload" in p for p in problems)


# ---- the manifest rules themselves, on hand-made manifests (what bosh-init / the director enforce)


def _microbosh():
    return {
        "name": "bosh",
        "releases": [{"name": "bosh", "url": "file:///r.tgz", "sha1": "ab"}],
        "resource_pools": [{"name": "vms", "network": "private", "stemcell": {"url": "file:///s.tgz", "sha1": "cd"}}],
        "disk_pools": [{"name": "disks", "disk_size": 20000}],
        "networks": [
            {"name": "private", "type": "manual", "subnets": [{"range": "10.0.0.0/24", "gateway": "10.0.0.1"}]},
            {"name": "public", "type": "vip"},
        ],
        "jobs": [
            {
                "name": "bosh",
                "instances": 1,
                "templates": [{"name": "director", "release": "bosh"}],
                "resource_pool": "vms",
                "persistent_disk_pool": "disks",
                "networks": [
                    {"name": "private", "static_ips": ["10.0.0.6"], "default": ["dns", "gateway"]},
                    {"name": "public", "static_ips": ["52.0.0.1"]},
                ],
            }
        ],
        "cloud_provider": {"template": {"name": "cpi", "release": "bosh"}, "mbus": "https://m:p@52.0.0.1:6868"},
    }


def test_bosh_init_rules():
    assert bosh_init_problems(_microbosh()) == []
    m = _microbosh()
    m["releases"].append({"name": "bosh", "url": "https://x/r.tgz"})
    m["networks"][0]["subnets"][0]["gateway"] = "10.0.0.255"
    m["networks"].append({"name": "odd", "type": "weird"})
    m["jobs"][0]["networks"][0]["static_ips"] = ["10.0.1.6"]
    m["jobs"][0]["networks"][1]["default"] = ["dns"]
    m["jobs"][0]["templates"].append({"name": "cpi", "release": "other"})
    m["disk_pools"][0]["disk_size"] = 0
    m["cloud_provider"]["template"]["release"] = "missing"
    paths = {p for p, _ in bosh_init_problems(m)}
    assert paths == {
        "releases[0].name",
        "releases[1].sha1",
        "networks[0].subnets[0].gateway",
        "networks[2].type",
        "jobs[0].networks[0].static_ips[0]",
        "jobs[0].networks",
        "jobs[0].templates[1].release",
        "disk_pools[0].disk_size",
        "cloud_provider.template.release",
    }


def test_v1_rules(tmp_path):
    fx = make_fixture(tmp_path)
    paths = deploy.Paths(tmp_path / "s", fx.payload)
    m = deploy.prepare(fx.site_path, fx.lock_path, paths, ["bosh"], "u-1").rendered["bosh"].manifest
    assert v1_problems(m, "u-1") == []
    assert [p for p, _ in v1_problems(m, "u-2")] == ["director_uuid"]
    m["releases"] = [m["release"]]
    m["update"]["canary_watch_time"] = "9000-100"
    m["update"]["max_in_flight"] = 0
    m["compilation"]["network"] = "nope"
    m["jobs"][0]["instances"] = 2
    m["jobs"][1]["templates"] = [{"name": "nats", "release": "bosh"}]
    m["jobs"][2]["persistent_disk_pool"] = "disks"
    m["jobs"][2]["persistent_disk"] = 1
    m["jobs"][3]["networks"][0]["static_ips"] = ["10.0.0.10"]
    m["networks"][1]["subnets"][0]["reserved"].append("10.0.0.16")
    found = {p for p, _ in v1_problems(m, "u-1")}
    assert {
        "releases",
        "update.canary_watch_time",
        "update.max_in_flight",
        "compilation.network",
        "jobs[0].networks[0].static_ips",
        "jobs[1]",
        "jobs[2]",
        "jobs[3].networks[0].static_ips[0]",
        "networks[1].subnets[0].static",
    } <= found


def test_the_documented_example_site_loads(tmp_path, monkeypatch):
    """manifests/site.example.yml documents every field; it must stay loadable by the site loader."""

    from installer.site.model import load_site

    example = REPO / "manifests" / "site.example.yml"
    site = load_site(example)
    assert site.bosh.static_ips[0] == "10.0.0.10" and len(site.bosh.static_ips) == 7
    assert site.network.gateway == "10.0.0.1" and site.network.dns == ("10.0.0.2",)
