"""``bosh-install aws check`` against moto's server on 127.0.0.1, on an environment made by hand."""

from __future__ import annotations

import json
import logging
import os
import re

import pytest

from bundler.core.lock import read_lock
from installer import cli
from installer.aws.checks import preflight
from installer.aws.rules import GUIDE_RULES
from installer.site.model import load_site
from tests.support.awssite import SITE_KEY_ID, SITE_SECRET, hvm_image, write_lock_with_stemcell, write_site
from tests.support.motoserver import MotoServer, assert_loopback


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with MotoServer(tmp_path_factory.mktemp("aws")) as srv:
        srv.reset()
        yield srv


@pytest.fixture(scope="module")
def handmade(aws, tmp_path_factory):
    """The guide's environment clicked together: VPC, subnet, EIP, key pair, group with five rules."""
    tmp = tmp_path_factory.mktemp("handmade")
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]
    eip = ec2.allocate_address(Domain="vpc")["PublicIp"]
    made = ec2.create_key_pair(KeyName="bosh")
    key = tmp / "bosh.pem"
    key.write_text(made["KeyMaterial"])
    key.chmod(0o400)
    group = ec2.create_security_group(GroupName="bosh", Description="bosh", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[r.permission(group, "203.0.113.7/32") for r in GUIDE_RULES]
    )
    site = write_site(tmp / "site.yml", aws.endpoint_url, private_key=key, subnet_id=subnet["SubnetId"], elastic_ip=eip)
    lock = write_lock_with_stemcell(tmp / "bundle.lock", {"us-east-1": hvm_image(ec2)})
    return {"site": site, "lock": lock, "tmp": tmp, "group": group, "vpc": vpc}


def statuses(checks):
    return {c.name: c.status for c in checks}


def test_endpoint_is_loopback(aws, handmade):
    site = load_site(handmade["site"])
    assert_loopback(site.aws.endpoint_url)
    assert os.environ["AWS_SHARED_CREDENTIALS_FILE"].endswith("no-aws-config")


def test_check_passes_on_the_guides_environment(aws, handmade, capsys):
    code = cli.main(["--debug", "aws", "check", "--site", str(handmade["site"]), "--lock", str(handmade["lock"])])
    out, err = capsys.readouterr()
    assert code == 0, out
    assert "all checks passed" in out
    for name in ("credentials", "region", "availability_zone", "subnet", "addresses", "elastic_ip", "key_pair"):
        assert f"\n{name} " in out
    assert SITE_SECRET not in out + err and SITE_KEY_ID not in out + err


def test_check_json_lists_every_check(aws, handmade, capsys):
    code = cli.main(["aws", "check", "--site", str(handmade["site"]), "--lock", str(handmade["lock"]), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["ok"] is True
    assert {c["name"] for c in data["checks"]} >= {"security_group", "instance_types", "stemcell_ami"}
    assert all(c["status"] == "pass" for c in data["checks"])


def test_region_given_as_a_zone_fails_region_and_ami_and_skips_the_rest(aws, handmade, tmp_path):
    text = handmade["site"].read_text().replace("region: us-east-1 ", "region: us-east-1a ")
    bad = tmp_path / "site.yml"
    bad.write_text(text)
    bad.chmod(0o600)
    checks = preflight(load_site(bad), read_lock(handmade["lock"]))
    by = {c.name: c for c in checks}
    assert by["region"].status == "FAIL" and "'us-east-1'" in by["region"].fix
    assert by["stemcell_ami"].status == "FAIL"
    assert "does not contain an AMI for this region (us-east-1a)" in by["stemcell_ami"].detail
    assert by["subnet"].status == "skip"
    assert "site.yml:4: aws.region" in by["region"].field


def test_missing_rule_is_named_with_port_and_source(aws, handmade):
    ec2 = aws.client("ec2")
    rule = GUIDE_RULES[1]  # 6868 from the operator
    perm = rule.permission(handmade["group"], "203.0.113.7/32")
    perm["IpRanges"] = [{"CidrIp": "203.0.113.7/32"}]
    ec2.revoke_security_group_ingress(GroupId=handmade["group"], IpPermissions=[perm])
    try:
        checks = preflight(load_site(handmade["site"]), read_lock(handmade["lock"]))
        sg = next(c for c in checks if c.name == "security_group")
        assert sg.status == "FAIL"
        assert "tcp 6868 from 203.0.113.7/32" in sg.detail and "tcp 22" not in sg.detail
        assert statuses(checks)["key_pair"] == "pass"
    finally:
        ec2.authorize_security_group_ingress(GroupId=handmade["group"], IpPermissions=[perm])


def test_unreachable_endpoint_fails_credentials_once_and_skips_the_rest(handmade, tmp_path, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    text = handmade["site"].read_text()
    site = tmp_path / "site.yml"
    site.write_text(re.sub(r"endpoint_url: \S+", f"endpoint_url: http://127.0.0.1:{closed}", text))
    site.chmod(0o644)  # and a site file holding keys that others may read
    code = cli.main(["aws", "check", "--site", str(site)])
    out = capsys.readouterr().out
    assert code == 1
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines() if line and not line.startswith(" ")}
    assert lines["credentials"] == "FAIL" and "cannot reach the AWS endpoint" in out
    assert lines["site_file"] == "FAIL" and f"chmod 600 {site}" in out
    assert lines["subnet"] == "skip" and lines["security_group"] == "skip"
    assert lines["addresses"] == "pass"  # local checks still run
    assert SITE_SECRET not in out and SITE_KEY_ID not in out


def test_preflight_called_like_deploy_keeps_keys_out_of_debug_logs(aws, handmade, caplog):
    caplog.set_level(logging.DEBUG)
    checks = preflight(load_site(handmade["site"]), read_lock(handmade["lock"]))
    assert all(c.ok for c in checks)
    assert "AWS: region us-east-1" in caplog.text
    assert SITE_KEY_ID not in caplog.text and SITE_SECRET not in caplog.text


def test_addresses_outside_the_subnet_or_reserved_are_each_named(aws, handmade, tmp_path):
    text = handmade["site"].read_text()
    text = text.replace("static_ips: [10.0.0.10, 10.0.0.11]", "static_ips: [10.0.0.5, 10.0.1.11, 10.0.0.255]")
    text = text.replace("  cidr: 10.0.0.0/24\n", "  cidr: 10.0.0.0/24\n  gateway: 10.0.0.4\n")
    bad = tmp_path / "site.yml"
    bad.write_text(text)
    bad.chmod(0o600)
    by = {c.name: c for c in preflight(load_site(bad), read_lock(handmade["lock"]))}
    detail = by["addresses"].detail
    assert by["addresses"].status == "FAIL"
    assert "network.gateway 10.0.0.4 is not 10.0.0.1, AWS's subnet router" in detail
    assert "bosh.static_ips[0] 10.0.0.5 is inside network.reserved" in detail
    assert "bosh.static_ips[1] 10.0.1.11 is not inside 10.0.0.0/24" in detail
    assert "bosh.static_ips[2] 10.0.0.255 is one of the five addresses AWS reserves" in detail
    assert "microbosh" not in detail
