"""The v233 director's manifest rules, on the rendered BOSH manifest with hand-made faults."""

from installer.deploy import prepared as deploy
from installer.manifests.director import v1_problems
from installer.state import StateDir
from tests.support.deployfixtures import make_fixture


def test_v1_rules(tmp_path):
    fx = make_fixture(tmp_path)
    paths = StateDir(tmp_path / "s", fx.payload)
    m = deploy.prepare(fx.site_path, fx.lock_path, paths, ["bosh"], "u-1").rendered["bosh"].manifest
    assert v1_problems(m, "u-1") == []
    assert [p.where for p in v1_problems(m, "u-2")] == ["director_uuid"]
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
    found = {p.where for p in v1_problems(m, "u-1")}
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
