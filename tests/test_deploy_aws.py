"""``deploy microbosh`` runs the AWS preflight (installer.aws) against moto's server on 127.0.0.1.

The account is the guide's environment made by hand in moto; bosh-init and bosh are the STAND-INS
of tests/support/standins (the real binaries cannot be had here).  What is proven: a passing
preflight lets the deploy run, a failing one stops it before bosh-init, naming the cause.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("installer.aws.preflight")

from installer.aws.rules import GUIDE_RULES  # noqa: E402
from installer.cli import main  # noqa: E402
from tests.support.awssite import hvm_image  # noqa: E402
from tests.support.deployfixtures import GUIDE_SITE, make_fixture  # noqa: E402
from tests.support.motoserver import MotoServer  # noqa: E402

STANDINS = Path(__file__).parent / "support" / "standins"


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
