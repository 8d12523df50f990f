"""``bosh-install deploy`` runs the AWS preflight (``installer.aws.checks``) against moto's server on
127.0.0.1 before any step.

Two accounts: the guide's environment made by hand in moto, and one made by ``bosh-install aws
prepare`` from the deploy fixtures' site.  bosh-init and bosh are the stand-ins of
tests/support/standins.  What is proven: a passing preflight lets the deploy run, a failing one stops
it before bosh-init, naming the cause.
"""

from __future__ import annotations

import pytest

from installer.aws.rules import GUIDE_RULES
from installer.aws.sitefile import set_values
from installer.cli import main
from installer.site.model import load_site
from tests.support.awssite import hvm_image
from tests.support.deployfixtures import GUIDE_SITE, make_fixture
from tests.support.motoserver import MotoServer
from tests.support.paths import STANDINS


@pytest.fixture
def account(tmp_path, monkeypatch):
    with MotoServer(tmp_path) as aws:
        aws.reset()
        ec2 = aws.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]
        eips = [ec2.allocate_address(Domain="vpc")["PublicIp"] for _ in range(2)]
        key = ec2.create_key_pair(KeyName="bosh")["KeyMaterial"]
        group = ec2.create_security_group(GroupName="bosh", Description="bosh", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=group, IpPermissions=[r.permission(group, "203.0.113.7/32") for r in GUIDE_RULES]
        )
        text = (
            GUIDE_SITE.replace("subnet-e8d03a9e", subnet["SubnetId"])
            .replace("52.99.9.99", eips[0])
            .replace("52.99.99.100", eips[1])
            .replace("  secret_access_key:", f"  endpoint_url: {aws.endpoint_url}\n  secret_access_key:")
            .replace("  security_group: bosh\n", "  security_group: bosh\n  operator_cidr: 203.0.113.7/32\n")
        )
        fx = make_fixture(tmp_path / "site", text, amis={"us-east-1": hvm_image(ec2)})
        fx.key_path.chmod(0o600)
        fx.key_path.write_text(key)
        fx.key_path.chmod(0o400)
        fx.state = tmp_path / "state"
        monkeypatch.setenv("BOSH_STANDIN_STATE", str(tmp_path / "directors"))
        yield fx, ec2, group


def _deploy(fx):
    return main(
        ["deploy", "microbosh", "--site", str(fx.site_path), "--lock", str(fx.lock_path),
         "--payload", str(fx.payload), "--state-dir", str(fx.state),
         "--bosh-init", str(STANDINS / "bosh-init"), "--bosh", str(STANDINS / "bosh")]
    )  # fmt: skip


def test_passing_preflight_lets_the_deploy_run(account, capsys):
    fx, _, _ = account
    assert _deploy(fx) == 0, capsys.readouterr()
    assert "MicroBOSH is up" in capsys.readouterr().out


def test_failing_preflight_stops_before_bosh_init(account, capsys):
    fx, ec2, group = account
    rule = next(r for r in GUIDE_RULES if "6868" in str(r.permission(group, "203.0.113.7/32")))
    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[rule.permission(group, "203.0.113.7/32")])
    assert _deploy(fx) == 1
    err = capsys.readouterr().err
    assert "AWS preflight failed" in err and "network.security_group" in err and "6868" in err
    assert not (fx.state / "deploy" / "microbosh-state.json").exists()


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with MotoServer(tmp_path_factory.mktemp("aws")) as srv:
        srv.reset()
        yield srv


def test_deploy_runs_after_prepare_and_stops_on_a_failed_preflight(aws, tmp_path, monkeypatch, capsys):
    site_text = (
        GUIDE_SITE.replace("  secret_access_key:", f"  endpoint_url: {aws.endpoint_url}\n  secret_access_key:")
        .replace("subnet_id: subnet-e8d03a9e", "subnet_id:")
        .replace("private_key: bosh.pem", "private_key: keys/bosh.pem")
        .replace("  elastic_ip: 52.99.99.100\n", "")
        .replace("  elastic_ip: 52.99.9.99\n", "  elastic_ip:\n")
        .replace("  static_ips: [10.0.0.10, 10.0.0.11, 10.0.0.12, 10.0.0.13, 10.0.0.14, 10.0.0.15, 10.0.0.16]\n", "")
    )
    fx = make_fixture(tmp_path / "site", site_text, amis={"us-east-1": hvm_image(aws.client("ec2"))})
    monkeypatch.setenv("BOSH_STANDIN_STATE", str(tmp_path / "standin-aws"))
    monkeypatch.delenv("BOSH_STANDIN_FAIL", raising=False)
    args = [
        "--site", str(fx.site_path), "--lock", str(fx.lock_path), "--payload", str(fx.payload),
        "--state-dir", str(tmp_path / "state"), "--bosh-init", str(STANDINS / "bosh-init"),
        "--bosh", str(STANDINS / "bosh"),
    ]  # fmt: skip

    # the site leaves the subnet and the key for prepare to make: deploy refuses it as it is
    assert main(["deploy", "microbosh", *args]) == 2
    assert "network.subnet_id" in capsys.readouterr().err
    assert not (tmp_path / "state" / "journal.json").exists()

    assert main(["aws", "prepare", "--site", str(fx.site_path)]) == 0
    capsys.readouterr()
    # moto hands out elastic IPs in 127/8, which the manifest validator rightly refuses as not public:
    # this deploy goes without one (the manifests then leave the vip network out)
    eip = load_site(fx.site_path).microbosh.elastic_ip
    ec2 = aws.client("ec2")
    ec2.release_address(AllocationId=ec2.describe_addresses(PublicIps=[eip])["Addresses"][0]["AllocationId"])
    set_values(fx.site_path, {"microbosh.elastic_ip": None})

    assert main(["deploy", "microbosh", *args]) == 0, capsys.readouterr()
    capsys.readouterr()

    group = load_site(fx.site_path).network.security_group_id
    ec2.revoke_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 25555, "ToPort": 25555, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    assert main(["deploy", "bosh", *args]) == 1
    err = capsys.readouterr().err
    assert "no inbound rule for tcp 25555 from 0.0.0.0/0 (BOSH director)" in err
    assert "oDexampleSecretKeyThatIsLongEnough0001" not in err

    assert main(["aws", "teardown", "--site", str(fx.site_path)]) == 0
