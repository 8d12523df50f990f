"""prepare → check passes → break each resource → check names it → prepare repairs → teardown.

All against moto's server on 127.0.0.1, driven through ``bosh-install aws …`` in-process, with the
site file's credentials asserted absent from every output and log line.
"""

from __future__ import annotations

import json
import logging
import stat
from contextlib import contextmanager

import pytest

from installer import cli
from installer.aws.sitefile import set_values
from tests.support.awssite import SITE_KEY_ID, SITE_SECRET, hvm_image, write_lock_with_stemcell, write_site
from tests.support.motoserver import MotoServer


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with MotoServer(tmp_path_factory.mktemp("aws")) as srv:
        srv.reset()
        yield srv


def account(ec2) -> dict[str, set[str]]:
    """Everything prepare might create or touch, by id."""
    return {
        "vpcs": {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]},
        "subnets": {s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]},
        "groups": {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]},
        "addresses": {a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]},
        "keys": {k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]},
        "gateways": {g["InternetGatewayId"] for g in ec2.describe_internet_gateways()["InternetGateways"]},
        "routes": {
            f"{t['RouteTableId']}:{r.get('DestinationCidrBlock')}:{r.get('GatewayId')}"
            for t in ec2.describe_route_tables()["RouteTables"]
            for r in t["Routes"]
        },
    }


class Env:
    def __init__(self, aws, tmp):
        self.aws, self.tmp = aws, tmp
        self.ec2 = aws.client("ec2")
        self.key = tmp / "keys" / "bosh.pem"
        self.site = write_site(tmp / "site.yml", aws.endpoint_url, private_key=self.key)
        self.image = hvm_image(self.ec2)
        self.lock = write_lock_with_stemcell(tmp / "bundle.lock", {"us-east-1": self.image})
        self.outputs: list[str] = []

    def cli(self, capsys, *argv: str) -> tuple[int, str]:
        code = cli.main(["-v", "aws", *argv, "--site", str(self.site)])
        out, err = capsys.readouterr()
        self.outputs.append(out + err)
        return code, out + err

    def check(self, capsys, lock=None) -> tuple[int, dict[str, dict]]:
        code, out = self.cli(capsys, "check", "--json", "--lock", str(lock or self.lock))
        return code, {c["name"]: c for c in json.loads(out)["checks"]}

    @contextmanager
    def site_values(self, **values):
        before = self.site.read_text()
        set_values(self.site, {k.replace("__", "."): v for k, v in values.items()})
        try:
            yield
        finally:
            self.site.write_text(before)


@pytest.fixture(scope="module")
def env(aws, tmp_path_factory):
    return Env(aws, tmp_path_factory.mktemp("site"))


@pytest.fixture(autouse=True)
def no_credentials_in_logs(caplog):
    caplog.set_level(logging.DEBUG)
    yield
    assert SITE_SECRET not in caplog.text and SITE_KEY_ID not in caplog.text


def test_00_dry_run_on_an_empty_account_plans_everything_and_changes_nothing(env, capsys):
    before, text = account(env.ec2), env.site.read_text()
    code, out = env.cli(capsys, "prepare", "--dry-run")
    assert code == 0, out
    planned = [line for line in out.splitlines() if line.startswith("would ")]
    assert [line.split(" (")[0].split(":")[0] for line in planned] == [
        "would create a vpc",
        "would create a subnet",
        "would create an internet gateway",
        "would attach <new internet gateway> to <new vpc>",
        "would add the default route via <new internet gateway> to <main route table of the new vpc>",
        "would allocate an elastic IP",
        f"would create key pair 'bosh' and write its private key to {env.key}",
        "would create security group bosh in <new vpc>",
        "would add 5 rule(s) to <new security group>",
        "would write microbosh.elastic_ip, network.security_group_id, network.subnet_id, network.vpc_id into "
        f"{env.site}",
    ]
    assert "would create a subnet (10.0.0.0/24 in us-east-1a)" in out
    assert out.rstrip().endswith("dry run: nothing was changed")
    assert account(env.ec2) == before and env.site.read_text() == text and not env.key.exists()
    code, out = env.cli(capsys, "prepare", "--dry-run", "--json")
    plan = json.loads(out)
    assert code == 0 and plan["dry_run"] is True and plan["site_updates"]["network.vpc_id"] == "<new vpc>"
    assert account(env.ec2) == before


def test_01_prepare_creates_the_guides_environment_and_check_passes(env, capsys):
    env.before = account(env.ec2)
    code, out = env.cli(capsys, "prepare")
    assert code == 0, out
    for made in ("created vpc", "created subnet", "created internet gateway", "added the default route",
                 "allocated elastic IP", "created key pair 'bosh'", "created security group"):  # fmt: skip
        assert made in out
    assert stat.S_IMODE(env.key.stat().st_mode) == 0o400
    assert stat.S_IMODE(env.site.stat().st_mode) == 0o600
    text = env.site.read_text()
    assert "# Site parameters (test)" in text and "# filled in by prepare" in text
    assert "subnet_id: subnet-" in text and "vpc_id: vpc-" in text and "security_group_id: sg-" in text
    code, checks = env.check(capsys)
    assert code == 0, checks
    assert {c["status"] for c in checks.values()} == {"pass"}


def test_02_second_prepare_reuses_everything(env, capsys):
    text = env.site.read_text()
    snapshot = account(env.ec2)
    code, out = env.cli(capsys, "prepare")
    assert code == 0
    assert "created" not in out and "allocated" not in out
    assert env.site.read_text() == text
    assert account(env.ec2) == snapshot
    code, out = env.cli(capsys, "prepare", "--dry-run")
    assert code == 0 and out.strip() == "dry run: nothing to change"
    with env.site_values(network__vpc_id="", network__subnet_id="", microbosh__elastic_ip=""):
        code, out = env.cli(capsys, "prepare", "--dry-run")  # ids lost from the site file: found by their tags
    reused = [line.split(" ")[:3] for line in out.splitlines() if line.startswith("would ")]
    assert code == 0 and reused[:3] == [
        ["would", "reuse", "vpc"],
        ["would", "reuse", "subnet"],
        ["would", "reuse", "elastic"],
    ]
    assert reused[3:] == [["would", "write", "microbosh.elastic_ip,"]] and account(env.ec2) == snapshot


def test_03_deleted_rule_is_named_and_restored(env, capsys):
    site_group = next(
        line.split(":")[1].strip() for line in env.site.read_text().splitlines() if "security_group_id" in line
    )
    env.ec2.revoke_security_group_ingress(
        GroupId=site_group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 6868, "ToPort": 6868, "IpRanges": [{"CidrIp": "203.0.113.7/32"}]}
        ],
    )
    code, checks = env.check(capsys)
    assert code == 1
    assert checks["security_group"]["status"] == "FAIL"
    assert "no inbound rule for tcp 6868 from 203.0.113.7/32 (bosh-init agent)" in checks["security_group"]["detail"]
    assert [n for n, c in checks.items() if c["status"] != "pass"] == ["security_group"]
    snapshot = account(env.ec2)
    code, out = env.cli(capsys, "prepare", "--dry-run")
    changes = [line for line in out.splitlines() if line.startswith("would ") and "reuse" not in line]
    assert code == 0 and changes == [
        f"would add 1 rule(s) to {site_group}: tcp 6868 from 203.0.113.7/32 (bosh-init agent)"
    ]
    assert account(env.ec2) == snapshot and env.check(capsys)[0] == 1
    code, out = env.cli(capsys, "prepare")
    assert "added rule tcp 6868 from 203.0.113.7/32" in out
    assert env.check(capsys)[0] == 0


def _subnet_and_eip(env):
    from installer.site.model import load_site

    site = load_site(env.site)
    return site.network.subnet_id, site.microbosh.elastic_ip


def test_04_elastic_ip_on_another_vm_fails_is_taken_back_and_on_microbosh_passes(env, capsys):
    subnet, eip = _subnet_and_eip(env)
    image = env.image
    other = env.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet, PrivateIpAddress="10.0.0.20")
    other_id = other["Instances"][0]["InstanceId"]
    alloc = env.ec2.describe_addresses(PublicIps=[eip])["Addresses"][0]["AllocationId"]
    env.ec2.associate_address(AllocationId=alloc, InstanceId=other_id)
    code, checks = env.check(capsys)
    assert code == 1
    assert checks["elastic_ip"]["status"] == "FAIL"
    assert f"associated with {other_id} (10.0.0.20), not with MicroBOSH (10.0.0.6)" in checks["elastic_ip"]["detail"]
    code, out = env.cli(capsys, "prepare")  # the address is prepare's: it takes it back
    assert code == 0 and f"disassociated elastic IP {eip} from {other_id} (10.0.0.20)" in out
    assert env.check(capsys)[0] == 0
    env.ec2.terminate_instances(InstanceIds=[other_id])
    micro = env.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet, PrivateIpAddress="10.0.0.6")
    micro_id = micro["Instances"][0]["InstanceId"]
    assoc = env.ec2.associate_address(AllocationId=alloc, InstanceId=micro_id)["AssociationId"]
    code, checks = env.check(capsys)
    assert code == 0 and "on the MicroBOSH VM" in checks["elastic_ip"]["detail"]
    # teardown refuses while a VM runs in the site's network
    code, out = env.cli(capsys, "teardown")
    assert code == 1 and micro_id in out and "delete the deployments first" in out
    env.ec2.disassociate_address(AssociationId=assoc)
    env.ec2.terminate_instances(InstanceIds=[micro_id])


def test_05_wrong_zone_names_the_subnets_zone(env, capsys):
    with env.site_values(aws__availability_zone="us-east-1b"):
        code, checks = env.check(capsys)
    assert code == 1
    assert "it is in us-east-1a, but aws.availability_zone is us-east-1b" in checks["subnet"]["detail"]
    assert checks["availability_zone"]["status"] == "pass"
    snapshot = account(env.ec2)
    with env.site_values(aws__availability_zone="us-east-1b"):
        code, out = env.cli(capsys, "prepare")  # its own subnet, in another zone: reported, not moved
    assert code == 1 and "has availability zone us-east-1a, the site file says us-east-1b: prepare does not move" in out
    assert account(env.ec2) == snapshot
    with env.site_values(aws__availability_zone="us-west-2a"):
        code, checks = env.check(capsys)
    assert "is not in region us-east-1 (it is in us-west-2)" in checks["availability_zone"]["detail"]


def test_06_zone_given_as_region_and_region_given_as_zone(env, capsys):
    with env.site_values(aws__availability_zone="us-east-1"):
        code, checks = env.check(capsys)
    assert code == 1
    assert "'us-east-1' is a region, not a zone" in checks["availability_zone"]["detail"]
    with env.site_values(aws__region="us-east-1a"):
        code, checks = env.check(capsys)
        prep_code, prep_out = env.cli(capsys, "prepare")
    assert code == 1
    assert "'us-east-1a' is an availability zone" in checks["region"]["detail"]
    assert "set aws.region to 'us-east-1'" in checks["region"]["fix"]
    assert "Stemcell does not contain an AMI for this region (us-east-1a)" in checks["stemcell_ami"]["detail"]
    assert checks["key_pair"]["status"] == "skip"
    assert prep_code == 2 and "is an availability zone" in prep_out


def test_07_key_fingerprint_mismatch_is_found_and_prepare_reimports(env, capsys):
    other = env.ec2.create_key_pair(KeyName="someone-else")
    env.ec2.delete_key_pair(KeyName="someone-else")
    original = env.key.read_text()
    env.key.chmod(0o600)
    env.key.write_text(other["KeyMaterial"])
    env.key.chmod(0o400)
    code, checks = env.check(capsys)
    assert code == 1
    assert "the local private key is not this key pair's" in checks["key_pair"]["detail"]
    code, out = env.cli(capsys, "prepare")
    assert code == 0 and "imported" in out and "deleted key pair 'bosh'" in out
    assert env.check(capsys)[0] == 0
    assert original != env.key.read_text()


def test_08_no_ami_for_the_region(env, capsys):
    lock = write_lock_with_stemcell(env.tmp / "eu.lock", {"eu-west-1": "ami-0123abcd"})
    code, checks = env.check(capsys, lock)
    assert code == 1
    assert "has no AMI for region us-east-1" in checks["stemcell_ami"]["detail"]
    assert "(eu-west-1)" in checks["stemcell_ami"]["fix"]
    lock = write_lock_with_stemcell(env.tmp / "gone.lock", {"us-east-1": "ami-0badbad0"})
    code, checks = env.check(capsys, lock)
    assert "ami-0badbad0 for us-east-1, but that AMI does not exist" in checks["stemcell_ami"]["detail"]


def test_09_m1_instance_cannot_run_the_hvm_stemcell(env, capsys):
    with env.site_values(microbosh__instance_type="m1.medium"):
        code, checks = env.check(capsys)
    assert code == 1
    detail = checks["instance_types"]["detail"]
    assert "microbosh.instance_type m1.medium cannot run the HVM stemcell" in detail
    assert detail.count("cannot run") == 1  # m3.medium and c3.large are fine
    with env.site_values(microbosh__instance_type="m9.huge"):
        code, checks = env.check(capsys)
    assert "m9.huge is not offered in us-east-1a" in checks["instance_types"]["detail"]


def test_09b_each_deployment_is_checked_against_its_own_stemcell(env, capsys):
    # MicroBOSH boots the light HVM stemcell, BOSH the full PV one: m4 (HVM only) is wrong for BOSH only
    lock = write_lock_with_stemcell(
        env.tmp / "both.lock", {"us-east-1": env.image}, regular="bosh-aws-xen-ubuntu-trusty-go_agent"
    )
    code, checks = env.check(capsys, lock)
    assert code == 0, checks["instance_types"]
    assert "hvm/paravirtual" in checks["instance_types"]["detail"]
    with env.site_values(bosh__instance_type="m4.large"):
        code, checks = env.check(capsys, lock)
    assert code == 1
    assert checks["instance_types"]["detail"] == (
        "bosh.instance_type m4.large does not support paravirtual AMIs (stemcell bosh-aws-xen-ubuntu-trusty-go_agent); "
        "bosh.director_instance_type m4.large does not support paravirtual AMIs (stemcell "
        "bosh-aws-xen-ubuntu-trusty-go_agent)"
    )
    with env.site_values(microbosh__instance_type="m4.large"):
        assert env.check(capsys, lock)[0] == 0  # HVM light stemcell on m4: fine


def test_09c_director_elastic_ip(env, capsys):
    from installer.site.model import load_site

    second = env.ec2.allocate_address(Domain="vpc")
    try:
        with env.site_values(bosh__elastic_ip=second["PublicIp"]):
            code, checks = env.check(capsys)
        assert code == 0 and checks["bosh_elastic_ip"]["detail"] == f"{second['PublicIp']} is allocated and free"
        with env.site_values(bosh__elastic_ip=load_site(env.site).microbosh.elastic_ip):
            code, checks = env.check(capsys)
        assert code == 1 and "is MicroBOSH's elastic IP too" in checks["bosh_elastic_ip"]["detail"]
    finally:
        env.ec2.release_address(AllocationId=second["AllocationId"])


def test_10_teardown_leaves_the_account_as_found(env, capsys):
    snapshot, text = account(env.ec2), env.site.read_text()
    code, out = env.cli(capsys, "teardown", "--dry-run")
    assert code == 0, out
    planned = [line.split(" ")[:3] for line in out.splitlines() if line.startswith("would ")]
    assert planned == [
        ["would", "release", "elastic"],
        ["would", "delete", "key"],
        ["would", "delete", "security"],
        ["would", "delete", "subnet"],
        ["would", "delete", "internet"],
        ["would", "delete", "vpc"],
        ["would", "empty", "microbosh.elastic_ip,"],
    ]
    assert account(env.ec2) == snapshot and env.site.read_text() == text
    code, out = env.cli(capsys, "teardown")
    assert code == 0, out
    assert "deleted vpc" in out and "released elastic IP" in out
    after = account(env.ec2)
    assert after == env.before
    text = env.site.read_text()
    assert "subnet_id: sg-" not in text and "subnet_id: subnet-" not in text
    assert "# filled in by prepare" in text
    code, out = env.cli(capsys, "teardown")
    assert code == 0 and "nothing tagged bosh-offline:owner=bosh" in out


def test_11_no_credentials_in_any_output(env):
    assert env.outputs
    joined = "\n".join(env.outputs)
    assert SITE_SECRET not in joined and SITE_KEY_ID not in joined


def test_12_prepare_inside_the_operators_vpc_leaves_that_vpc_alone(env, capsys):
    vpc = env.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    before = account(env.ec2)
    with env.site_values(network__vpc_id=vpc):
        code, out = env.cli(capsys, "prepare")
        assert code == 0, out
        assert "created vpc" not in out and "internet gateway" not in out and "created subnet" in out
        assert env.check(capsys)[0] == 0
        code, out = env.cli(capsys, "teardown")
        assert code == 0 and "deleted vpc" not in out and "deleted subnet" in out
    assert account(env.ec2) == before
    env.ec2.delete_vpc(VpcId=vpc)
