"""Rendering the guide's two manifests from a site file with the guide's example values."""

import hashlib
import stat
import subprocess

import pytest
import yaml

from bundler.core.errors import IntegrityError
from installer.manifests import render as manifests
from installer.manifests.secrets import VarsStore
from installer.site.addresses import BOSH_JOBS
from installer.site.credentials import aws_credentials
from installer.site.model import load_site
from tests.support.deployfixtures import GUIDE_SITE, make_fixture
from tests.support.paths import DATA

GUIDE_DEFAULT_PASSWORDS = ("nats-password", "redis-password", "postgres-password", "hm-password", "mbus-password")


def _render(fx, kind, uuid="3d44c981-d458-47b9-8e95-62d07b87c68f"):
    site = load_site(fx.site_path)
    secrets = VarsStore(site.vars_store).secrets_for(kind)
    return manifests.render(kind, site, fx.lock, fx.payload, secrets, aws_credentials(site), uuid)


def _keys(node):
    """The key tree of a YAML value (values dropped), lists by position."""
    if isinstance(node, dict):
        return {k: _keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_keys(v) for v in node]
    return None


def _templates(job):
    if "templates" in job:
        return [(t["name"], t["release"]) for t in job["templates"]]
    return [(job["template"], None)]


def _job_shape(job):
    return {
        "name": job["name"],
        "templates": _templates(job),
        "resource_pool": job["resource_pool"],
        "networks": [(n["name"], tuple(n.get("default", ())), len(n.get("static_ips", []))) for n in job["networks"]],
        "disk": job.get("persistent_disk") or job.get("persistent_disk_pool"),
    }


def test_microbosh_manifest_has_the_guides_structure(tmp_path):
    fx = make_fixture(tmp_path)
    ours = _render(fx, "microbosh").manifest
    guide = yaml.safe_load((DATA / "guide_microbosh.yml").read_text())
    assert [_job_shape(j) for j in ours["jobs"]] == [_job_shape(j) for j in guide["jobs"]]
    assert [(n["name"], n["type"]) for n in ours["networks"]] == [(n["name"], n["type"]) for n in guide["networks"]]
    assert _keys(ours["jobs"][0]["properties"]) == _keys(guide["jobs"][0]["properties"])
    assert _keys(ours["cloud_provider"]) == _keys(guide["cloud_provider"])
    assert [r["name"] for r in ours["releases"]] == ["bosh", "bosh-aws-cpi"]
    # The only addition: the vcap password hash on the resource pool.
    assert set(_keys(ours["resource_pools"][0])) == set(_keys(guide["resource_pools"][0])) | {"env"}


def test_microbosh_manifest_carries_the_site_values_and_checked_artifacts(tmp_path):
    fx = make_fixture(tmp_path)
    m = _render(fx, "microbosh").manifest
    job = m["jobs"][0]
    assert job["networks"][0]["static_ips"] == ["10.0.0.6"]
    assert job["networks"][1]["static_ips"] == ["52.99.9.99"]
    assert m["networks"][0]["subnets"][0] == {
        "range": "10.0.0.0/24",
        "gateway": "10.0.0.1",
        "dns": ["10.0.0.2"],
        "cloud_properties": {"subnet": "subnet-e8d03a9e"},
    }
    assert m["resource_pools"][0]["cloud_properties"]["availability_zone"] == "us-east-1a"
    assert job["properties"]["aws"]["region"] == "us-east-1"
    assert m["cloud_provider"]["ssh_tunnel"] == {
        "host": "52.99.9.99",
        "port": 22,
        "user": "vcap",
        "private_key": str(fx.key_path),
    }
    bosh = fx.lock.find("release", "bosh")
    assert m["releases"][0] == {
        "name": "bosh",
        "url": f"file://{fx.payload}/releases/bosh-233.tgz",
        "sha1": bosh.meta["sha1"],
    }
    stemcell_url = m["resource_pools"][0]["stemcell"]["url"]
    assert stemcell_url.startswith(f"file://{fx.payload}/stemcells/light-bosh-stemcell-3147")
    nats = job["properties"]["nats"]["password"]
    assert job["properties"]["agent"]["mbus"] == f"nats://nats:{nats}@10.0.0.6:4222"


def test_no_default_password_survives_and_rendering_is_stable(tmp_path):
    fx = make_fixture(tmp_path)
    first = _render(fx, "microbosh").text + _render(fx, "bosh").text
    for default in GUIDE_DEFAULT_PASSWORDS:
        assert default not in first
    assert "password: admin\n" not in first and "c1oudc0w" not in first
    assert _render(fx, "microbosh").text + _render(fx, "bosh").text == first  # secrets reused
    site = load_site(fx.site_path)
    assert stat.S_IMODE(site.vars_store.stat().st_mode) == 0o600
    vcap = VarsStore(site.vars_store).secrets_for("bosh")
    pools = _render(fx, "bosh").manifest["resource_pools"]
    assert {p["env"]["bosh"]["password"] for p in pools} == {vcap["vcap_password_hash"]}
    salt = vcap["vcap_password_hash"].split("$")[2]
    ref = subprocess.run(["openssl", "passwd", "-6", "-salt", salt, vcap["vcap_password"]], capture_output=True)
    assert ref.stdout.decode().strip() == vcap["vcap_password_hash"]


def test_bosh_manifest_has_the_guides_structure(tmp_path):
    fx = make_fixture(tmp_path)
    ours = _render(fx, "bosh").manifest
    guide = yaml.safe_load((DATA / "guide_bosh.yml").read_text())
    assert [_job_shape(j) for j in ours["jobs"]] == [_job_shape(j) for j in guide["jobs"]]
    assert [(n["name"], n["type"]) for n in ours["networks"]] == [(n["name"], n["type"]) for n in guide["networks"]]
    assert [(p["name"], p["size"], p["network"]) for p in ours["resource_pools"]] == [
        (p["name"], p["size"], p["network"]) for p in guide["resource_pools"]
    ]
    assert set(ours) == set(guide)  # same top-level sections (release, compilation, update …)
    guide_props = {k: v for k, v in _keys(guide["properties"]).items() if k != "env"}  # the guide's `env: null`

    def contains(big, small, where):
        assert isinstance(big, dict), where
        for k, v in small.items():
            assert k in big, f"{where}.{k} missing"
            if isinstance(v, dict):
                contains(big[k], v, f"{where}.{k}")

    contains(_keys(ours["properties"]), guide_props, "properties")
    extras = {
        "blobstore": {"port", "provider"},
        "director": {"user_management"},
        "hm": {"resurrector_enabled"},
        "registry": {"username", "password", "port"},
    }
    for section, added in extras.items():
        assert set(ours["properties"][section]) - set(guide["properties"][section]) == added


def test_bosh_manifest_carries_the_site_values(tmp_path):
    fx = make_fixture(tmp_path)
    m = _render(fx, "bosh").manifest
    assert m["director_uuid"] == "3d44c981-d458-47b9-8e95-62d07b87c68f"
    assert m["release"] == {"name": "bosh", "version": "233"}
    ips = {j["name"]: j["networks"][0]["static_ips"][0] for j in m["jobs"]}
    assert ips == {
        "postgres": "10.0.0.10",
        "nats": "10.0.0.11",
        "redis": "10.0.0.12",
        "blobstore": "10.0.0.13",
        "registry": "10.0.0.14",
        "director": "10.0.0.15",
        "health_monitor": "10.0.0.16",
    }
    p = m["properties"]
    assert p["postgres"]["host"] == p["director"]["db"]["host"] == "10.0.0.10"
    assert p["nats"]["address"] == "10.0.0.11" and p["director"]["address"] == "10.0.0.15"
    assert p["dns"]["address"] == "52.99.99.100"
    subnet = m["networks"][1]["subnets"][0]
    assert subnet["reserved"] == ["10.0.0.2 - 10.0.0.9"]  # includes MicroBOSH's 10.0.0.6
    assert subnet["static"] == [ips[j] for j in BOSH_JOBS]
    assert m["resource_pools"][0]["stemcell"] == {"name": "bosh-aws-xen-ubuntu-trusty-go_agent", "version": "3147"}
    assert [rp["cloud_properties"]["instance_type"] for rp in m["resource_pools"]] == ["m1.small", "m1.medium"]


def test_defaults_are_derived_from_the_cidr(tmp_path):
    text = GUIDE_SITE.replace(
        "  static_ips: [10.0.0.10, 10.0.0.11, 10.0.0.12, 10.0.0.13, 10.0.0.14, 10.0.0.15, 10.0.0.16]\n", ""
    )
    text = text.replace("cidr: 10.0.0.0/24", "cidr: 10.1.4.0/24").replace("10.0.0.", "10.1.4.")
    text = text.replace("10.1.4.2-10.1.4.9", "10.1.4.2-10.1.4.5")
    text = text.replace("  elastic_ip: 52.99.99.100\n", "").replace("  elastic_ip: 52.99.9.99\n", "")
    fx = make_fixture(tmp_path, text)
    mb = _render(fx, "microbosh").manifest
    assert mb["networks"][0]["subnets"][0]["gateway"] == "10.1.4.1"
    assert mb["networks"][0]["subnets"][0]["dns"] == ["10.1.4.2"]
    assert [n["name"] for n in mb["networks"]] == ["private"]  # no elastic IP: no vip network
    assert mb["cloud_provider"]["ssh_tunnel"]["host"] == "10.1.4.6"
    bosh = _render(fx, "bosh").manifest
    # reserved .2-.5, MicroBOSH .6 (added to reserved), AWS keeps .0-.3: the jobs get .7 … .13 in order
    subnet = bosh["networks"][0]["subnets"][0]
    assert subnet["static"] == [f"10.1.4.{i}" for i in range(7, 14)]
    assert subnet["reserved"] == ["10.1.4.2 - 10.1.4.5", "10.1.4.6"]
    assert [n["name"] for n in bosh["networks"]] == ["default"]
    assert bosh["properties"]["dns"]["address"] == "10.1.4.12"


def test_missing_sha1_is_computed_from_the_verified_file(tmp_path):
    fx = make_fixture(tmp_path, with_sha1=False)
    m = _render(fx, "microbosh").manifest
    body = (fx.payload / "releases/bosh-233.tgz").read_bytes()
    assert m["releases"][0]["sha1"] == hashlib.sha1(body).hexdigest()
    (fx.payload / "releases/bosh-233.tgz").write_bytes(body[:-1] + b"X")
    with pytest.raises(IntegrityError, match="sha256"):
        _render(fx, "microbosh")


def test_written_manifest_is_private(tmp_path):
    fx = make_fixture(tmp_path)
    path = manifests.write(_render(fx, "microbosh"), tmp_path / "out")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text())["name"] == "bosh"
