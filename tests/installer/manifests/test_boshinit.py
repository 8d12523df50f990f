"""bosh-init's manifest rules, on hand-made MicroBOSH manifests (what bosh-init 0.0.81 enforces)."""

import copy

from installer.manifests.boshinit import bosh_init_problems


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
    paths = {p.where for p in bosh_init_problems(m)}
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


def test_the_manifest_is_not_changed_by_checking_it():
    m = _microbosh()
    m["networks"][0]["subnets"].append({"range": "10.0.1.0/24", "gateway": "10.0.1.1"})
    before = copy.deepcopy(m)
    assert bosh_init_problems(m)
    assert m == before


def _paths(m):
    return {p.where: p.message for p in bosh_init_problems(m)}


def test_blank_names_are_refused_as_bosh_init_does():
    m = _microbosh()
    m["name"] = "  "
    m["networks"][1]["name"] = ""
    m["jobs"][0]["name"] = " "
    m["resource_pools"][0]["name"] = None
    m["disk_pools"][0]["name"] = ""
    m["jobs"][0]["templates"][0]["name"] = ""
    found = _paths(m)
    for where in ("name", "networks[1].name", "jobs[0].name", "resource_pools[0].name", "disk_pools[0].name"):
        assert found[where].endswith("name is required"), found
    assert found["jobs[0].templates[0].name"] == "template name is required"


def test_a_negative_persistent_disk_is_refused():
    m = _microbosh()
    m["jobs"][0]["persistent_disk"] = 0
    assert bosh_init_problems(m) == []
    m["jobs"][0]["persistent_disk"] = -1
    assert _paths(m) == {"jobs[0].persistent_disk": "persistent_disk -1 must be an integer >= 0 (MB)"}


def test_a_lifecycle_other_than_service_is_refused():
    m = _microbosh()
    m["jobs"][0]["lifecycle"] = "service"
    assert bosh_init_problems(m) == []
    m["jobs"][0]["lifecycle"] = "errand"
    assert _paths(m) == {"jobs[0].lifecycle": "lifecycle 'errand' is not supported: bosh-init runs a service"}


def test_a_template_listed_twice_is_refused_at_its_second_place():
    m = _microbosh()
    m["jobs"][0]["templates"] += [{"name": "nats", "release": "bosh"}, {"name": "director", "release": "bosh"}]
    assert _paths(m) == {"jobs[0].templates[2].name": "template 'director' is listed twice in the job"}


def test_a_job_without_networks_is_refused():
    m = _microbosh()
    m["jobs"][0]["networks"] = []
    assert _paths(m) == {"jobs[0].networks": "the job needs at least one network"}


def test_a_range_with_host_bits_names_the_network_to_use():
    m = _microbosh()
    m["networks"][0]["subnets"][0]["range"] = "10.0.0.5/24"
    assert _paths(m)["networks[0].subnets[0].range"] == "range '10.0.0.5/24' has host bits set; use 10.0.0.0/24"
    m["networks"][0]["subnets"][0]["range"] = "10.0.0.0"  # an address: bosh-init's ParseCIDR refuses it too
    assert "is an address, not a CIDR" in _paths(m)["networks[0].subnets[0].range"]
    del m["networks"][0]["subnets"][0]["range"]
    assert _paths(m)["networks[0].subnets[0].range"].startswith("range is required")
