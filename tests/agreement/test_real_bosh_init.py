"""The real bosh-init 0.0.81 is the oracle for our bosh-init manifest rules.

Base: the project's own MicroBOSH manifest (``bosh-install manifests render`` on the guide's site
values) with the real ``bosh`` release, the test CPI as ``bosh-aws-cpi`` and a real-format light
stemcell in it.  The real bosh-init takes it, offline, through validation, the CPI's compilation and
template rendering to its first CPI call, ``create_stemcell``, which the test CPI refuses.

Each row of ROWS mutates the base the way bosh-init's own validators (deployment/manifest,
release/set/manifest, installation/manifest, cpi/release) look at it, runs the real
``bosh-init deploy`` and our ``bosh_init_problems`` (tests/support/realbosh/validator_adapter), and
asserts that both refuse (bosh-init before any CPI call, with the message in the row, and one of
ours at the manifest key path bosh-init names, or the row's ``at``) or both accept (bosh-init
reaches create_stemcell), or that we are stricter for the reason the row gives.  ``our_problems``
is the manifest rules plus the ``file://`` artifacts as bosh-init reads them (release.MF's name and
jobs); ``manifests check`` reads the same from the bundle (tests/installer/manifests/test_releases).

The table: 76 mutations, every one agreeing: 63 refused by both (at the same key path), 8 accepted
by both, 5 where we are stricter (each row says why: a file:// release or stemcell without a sha1,
cloud_provider.mbus missing, a subnet range with host bits set, instances not written).  No row is
xfail.  Beside the table: a manifest that is not a mapping (both refuse); the guide's two
troubleshooting cases that only our site check stops, and a static IP outside the subnet, are in
test_real_bosh_init_site.py.
"""

from __future__ import annotations

import copy

import pytest

from tests.support.realbosh import deploy, testcpi
from tests.support.realbosh import manifest as realmanifest
from tests.support.realbosh.mutations import Mutation, add, both, copy_of, drop, put
from tests.support.realbosh.validator_adapter import key_path_of, names_place, our_problems

pytestmark = pytest.mark.real_bosh

HTTP = "https://bosh.io/d/github.com/cloudfoundry/bosh?v=233"
NO_FILE_SHA1 = "bosh-init does not check file:// artifacts: we require a sha1 so that we can check it first"


def row(id: str, mutate: Mutation, real: str | None, stricter: str | None = None, at: str | None = None):
    """``real``: the text of bosh-init's refusal, None when it accepts.  ``stricter``: why we refuse
    what bosh-init accepts.  ``at``: the manifest key path one of our problems must name when bosh-init
    refuses (default: the key path its message starts with)."""
    return pytest.param(mutate, real, stricter, at, id=id)


ROWS = [
    # --- the deployment name (deployment/manifest/validator.go)
    row("name-missing", drop("name"), "name must be provided"),
    row("name-blank", put("name", "  "), "name must be provided"),
    # --- releases (release/set/manifest/validator.go), then each release tarball (release/fetcher.go)
    row("releases-empty", put("releases", []), "releases must contain at least 1 release"),
    row("release-name-missing", drop("releases.0.name"), "releases[0].name must be provided"),
    row(
        "release-name-twice",
        copy_of("releases.0", "releases"),
        "releases[2].name 'bosh' must be unique",
        at="releases[0].name",
    ),
    # a missing url is made the manifest's directory (AbsolutifyPath), which then has no scheme
    row("release-url-missing", drop("releases.0.url"), "releases[0].url must be a valid URL"),
    row("release-url-ftp", put("releases.0.url", "ftp://example.com/bosh.tgz"), "releases[0].url must be a valid URL"),
    row("release-url-bare-path", put("releases.0.url", "/tmp/bosh.tgz"), "releases[0].url must be a valid URL"),
    row(
        "release-http-no-sha1",
        both(put("releases.0.url", HTTP), drop("releases.0.sha1")),
        "releases[0].sha1 must be provided for http URL",
    ),
    row("release-file-no-sha1", drop("releases.0.sha1"), None, stricter=NO_FILE_SHA1),
    row("release-file-wrong-sha1", put("releases.0.sha1", "0" * 40), None),  # bosh-init never reads it
    row(
        "release-file-absent",
        put("releases.0.url", "file:///nonexistent/bosh-233.tgz"),
        "Extracting release '/nonexistent/bosh-233.tgz'",
        at="releases[0].url",
    ),
    # --- cloud_provider (installation/manifest/validator.go, cpi/release/validator.go)
    row("cpi-job-name-missing", drop("cloud_provider.template.name"), "cloud_provider.template.name must be provided"),
    row(
        "cpi-release-missing",
        drop("cloud_provider.template.release"),
        "cloud_provider.template.release must be provided",
    ),
    row(
        "cpi-release-unlisted",
        put("cloud_provider.template.release", "bosh-openstack-cpi"),
        "cloud_provider.template.release 'bosh-openstack-cpi' must refer to a release in releases",
    ),
    row(
        "cpi-job-not-in-release",
        put("cloud_provider.template.name", "vsphere_cpi"),
        "CPI release must contain specified job 'vsphere_cpi'",
        at="cloud_provider.template.name",
    ),
    row(
        "cpi-mbus-missing",
        drop("cloud_provider.mbus"),
        None,
        stricter="without cloud_provider.mbus bosh-init cannot reach the agent of its VM (it fails after create_vm)",
    ),
    row("ssh-key-absent", put("cloud_provider.ssh_tunnel.private_key", "/nonexistent/bosh.pem"), None),
    # --- networks
    row(
        "network-type-unknown",
        put("networks.1.type", "floating"),
        "networks[1].type must be 'manual', 'dynamic', or 'vip'",
    ),
    row("network-type-missing", drop("networks.1.type"), "networks[1].type must be 'manual', 'dynamic', or 'vip'"),
    row(
        "network-name-missing",
        add("networks", {"type": "dynamic"}),
        "networks[2].name must be provided",
    ),
    row("network-dynamic-unused", add("networks", {"name": "spare", "type": "dynamic"}), None),
    row("manual-no-subnet", put("networks.0.subnets", []), "networks[0].subnets must be of size 1"),
    row(
        "manual-two-subnets",
        add("networks.0.subnets", {"range": "10.0.1.0/24", "gateway": "10.0.1.1"}),
        "networks[0].subnets must be of size 1",
    ),
    row("range-missing", drop("networks.0.subnets.0.range"), "networks[0].subnets[0].range must be provided"),
    row(
        "range-bad-cidr",
        put("networks.0.subnets.0.range", "10.0.0.0/33"),
        "networks[0].subnets[0].range must be an ip range",
    ),
    row(
        "range-an-address",
        put("networks.0.subnets.0.range", "10.0.0.0"),
        "networks[0].subnets[0].range must be an ip range",
    ),
    row(
        "range-host-bits",
        put("networks.0.subnets.0.range", "10.0.0.5/24"),
        None,
        stricter="a range with host bits set (10.0.0.5/24) is a typo for the network it names: we ask for 10.0.0.0/24",
    ),
    row("gateway-missing", drop("networks.0.subnets.0.gateway"), "networks[0].subnets[0].gateway must be provided"),
    row("gateway-not-ip", put("networks.0.subnets.0.gateway", "gw"), "networks[0].subnets[0].gateway must be an ip"),
    row(
        "gateway-outside-range",
        put("networks.0.subnets.0.gateway", "10.0.1.1"),
        "subnet gateway '10.0.1.1' must be within the specified range '10.0.0.0/24'",
        at="networks[0].subnets[0].gateway",
    ),
    row(
        "gateway-network-address",
        put("networks.0.subnets.0.gateway", "10.0.0.0"),
        "subnet gateway can't be the network address '10.0.0.0'",
        at="networks[0].subnets[0].gateway",
    ),
    row(
        "gateway-broadcast",
        put("networks.0.subnets.0.gateway", "10.0.0.255"),
        "subnet gateway can't be the broadcast address '10.0.0.255'",
        at="networks[0].subnets[0].gateway",
    ),
    # --- resource pools and their stemcell
    row("pool-name-missing", drop("resource_pools.0.name"), "resource_pools[0].name must be provided"),
    row("pool-network-missing", drop("resource_pools.0.network"), "resource_pools[0].network must be provided"),
    row(
        "pool-network-unknown",
        put("resource_pools.0.network", "elsewhere"),
        "resource_pools[0].network must be the name of a network",
    ),
    row(
        "stemcell-url-missing",
        drop("resource_pools.0.stemcell.url"),
        "resource_pools[0].stemcell.url must be a valid URL",
    ),
    row(
        "stemcell-url-s3",
        put("resource_pools.0.stemcell.url", "s3://bosh-aws-light-stemcells/light.tgz"),
        "resource_pools[0].stemcell.url must be a valid URL (file:// or http(s)://)",
    ),
    row(
        "stemcell-http-no-sha1",
        both(put("resource_pools.0.stemcell.url", HTTP), drop("resource_pools.0.stemcell.sha1")),
        "resource_pools[0].stemcell.sha1 must be provided for http URL",
    ),
    row("stemcell-file-no-sha1", drop("resource_pools.0.stemcell.sha1"), None, stricter=NO_FILE_SHA1),
    row(
        "stemcell-file-absent",
        put("resource_pools.0.stemcell.url", "file:///nonexistent/light-stemcell.tgz"),
        "Extracting stemcell from '/nonexistent/light-stemcell.tgz'",
        at="resource_pools[0].stemcell.url",
    ),
    # --- disk pools
    row("disk-size-zero", put("disk_pools.0.disk_size", 0), "disk_pools[0].disk_size must be > 0"),
    row("disk-size-negative", put("disk_pools.0.disk_size", -1), "disk_pools[0].disk_size must be > 0"),
    row("disk-size-missing", drop("disk_pools.0.disk_size"), "disk_pools[0].disk_size must be > 0"),
    row(
        "disk-size-text",
        put("disk_pools.0.disk_size", "20000"),
        "cannot unmarshal !!str `20000` into int",
        at="disk_pools[0].disk_size",
    ),
    row("disk-pool-name-missing", drop("disk_pools.0.name"), "disk_pools[0].name must be provided"),
    row(
        "disk-pool-unknown",
        put("jobs.0.persistent_disk_pool", "big"),
        "jobs[0].persistent_disk_pool must be the name of a disk pool",
    ),
    # --- the job
    row("jobs-two", copy_of("jobs.0", "jobs", name="bosh2"), "jobs must be of size 1"),
    # bosh-init validates "not more than one job", then crashes on none (exit 2, the panic in its log)
    row("jobs-none", put("jobs", []), "Panic: runtime error: index out of range", at="jobs"),
    row(
        "job-name-missing",
        drop("jobs.0.name"),
        "jobs[0].name must be provided",
    ),
    row("instances-negative", put("jobs.0.instances", -1), "jobs[0].instances must be >= 0"),
    row("instances-zero", put("jobs.0.instances", 0), None),
    row(
        "instances-missing",
        drop("jobs.0.instances"),
        None,
        stricter="bosh-init reads a missing instances as 0; we ask for it to be written",
    ),
    row("instances-text", put("jobs.0.instances", "1"), "cannot unmarshal !!str `1` into int", at="jobs[0].instances"),
    row(
        "persistent-disk-negative",
        put("jobs.0.persistent_disk", -1),
        "jobs[0].persistent_disk must be >= 0",
    ),
    row(
        "job-networks-empty",
        put("jobs.0.networks", []),
        "jobs[0].networks must be a non-empty array",
    ),
    row("job-pool-missing", drop("jobs.0.resource_pool"), "jobs[0].resource_pool must be provided"),
    row(
        "job-pool-unknown",
        put("jobs.0.resource_pool", "big"),
        "jobs[0].resource_pool must be the name of a resource pool",
    ),
    row("job-network-unknown", put("jobs.0.networks.1.name", "floating"), "jobs[0].networks[1] not found in networks"),
    row("job-network-name-missing", drop("jobs.0.networks.1.name"), "jobs[0].networks[1].name must be provided"),
    row(
        "static-ip-outside-range",
        put("jobs.0.networks.0.static_ips", ["10.0.1.6"]),
        "jobs[0].networks[0] static ip '10.0.1.6' must be within subnet range",
    ),
    row(
        "static-ip-invalid",
        put("jobs.0.networks.0.static_ips", ["10.0.0.300"]),
        "jobs[0].networks[0].static_ips[0] must be a valid IP",
    ),
    row("static-ip-vip-anywhere", put("jobs.0.networks.1.static_ips", ["203.0.113.9"]), None),
    row(
        "default-not-dns-or-gateway",
        add("jobs.0.networks.0.default", "addressable"),
        "jobs[0].networks[0].default[2] must be 'dns' or 'gateway'",
    ),
    row(
        "default-on-two-networks",
        put("jobs.0.networks.1.default", ["dns", "gateway"]),
        "only one network can be the default for 'dns'",
        at="jobs[0].networks",
    ),
    row(
        "default-missing-with-two-networks",
        drop("jobs.0.networks.0.default"),
        "with multiple networks, a default for 'dns' must be specified",
        at="jobs[0].networks",
    ),
    row(
        "default-gateway-only",
        put("jobs.0.networks.0.default", ["gateway"]),
        "with multiple networks, a default for 'dns' must be specified",
        at="jobs[0].networks",
    ),
    row(
        "default-split",
        both(put("jobs.0.networks.0.default", ["dns"]), put("jobs.0.networks.1.default", ["gateway"])),
        None,
    ),
    row(
        "one-network-no-default",
        both(drop("jobs.0.networks.1"), drop("jobs.0.networks.0.default"), drop("networks.1")),
        None,
    ),
    row(
        "lifecycle-errand",
        put("jobs.0.lifecycle", "errand"),
        "jobs[0].lifecycle must be 'service' ('errand' not supported)",
    ),
    row("lifecycle-service", put("jobs.0.lifecycle", "service"), None),
    row(
        "template-name-twice",
        add("jobs.0.templates", {"name": "nats", "release": "bosh"}),
        "jobs[0].templates[8].name 'nats' must be unique",
    ),
    row(
        "template-name-missing",
        drop("jobs.0.templates.0.name"),
        "jobs[0].templates[0].name must be provided",
    ),
    row(
        "template-release-missing", drop("jobs.0.templates.0.release"), "jobs[0].templates[0].release must be provided"
    ),
    row(
        "template-release-unlisted",
        put("jobs.0.templates.0.release", "bosh-v1"),
        "jobs[0].templates[0].release 'bosh-v1' must refer to release in releases",
    ),
    row(
        "template-job-not-in-release",
        put("jobs.0.templates.0.name", "nats_stream"),
        "jobs[0].templates[0] must refer to a job in 'bosh', but there is no job named 'nats_stream'",
    ),
]


def test_the_rendered_manifest_goes_to_the_first_cpi_call(real_tools, microbosh, microbosh_manifest, tmp_path):
    """The base of every row: bosh-init validates it, compiles and renders the CPI, calls
    create_stemcell with the stemcell's cloud properties; our check and validator accept it."""
    real = deploy.bosh_init(real_tools, "deploy", microbosh_manifest, tmp_path)
    assert real.stopped_at_create_stemcell, real.output
    call = real.calls[0]
    assert call["arguments"][1]["ami"] == {"us-east-1": "ami-e62f158c"}
    assert call["cpi_config"]["cloud"]["properties"]["aws"]["region"] == "us-east-1"  # rendered from the manifest
    assert "Compiling package 'test_cpi/" in real.stdout and "Rendering job templates... Finished" in real.stdout
    assert our_problems(microbosh_manifest) == []
    checked = realmanifest.check(microbosh.site)
    assert checked.returncode == 0, checked.stderr


def test_the_test_cpi_answers_as_told_and_bosh_init_goes_on_to_create_vm(real_tools, microbosh_manifest, tmp_path):
    """Told to answer create_stemcell, the test CPI lets bosh-init go on to create_vm (with the
    manifest's network and static IP), where the error it is told to give stops the run."""
    error = {"type": "Bosh::Clouds::VMCreationFailed", "message": "test CPI: no VMs here", "ok_to_retry": False}
    testcpi.set_answers(
        tmp_path / "cpi", {"create_stemcell": {"result": "ami-0test light"}, "create_vm": {"error": error}}
    )
    real = deploy.bosh_init(real_tools, "deploy", microbosh_manifest, tmp_path)
    assert real.returncode == 1 and "test CPI: no VMs here" in real.stderr, real.output
    methods = [c["method"] for c in real.calls]
    assert methods[0] == "create_stemcell" and "create_vm" in methods, methods
    create_vm = real.calls[methods.index("create_vm")]["arguments"]
    assert create_vm[1] == "ami-0test light"  # the stemcell cid it was given
    assert create_vm[3]["private"]["ip"] == "10.0.0.6", create_vm[3]


@pytest.mark.parametrize("mutate, real_says, stricter, at", ROWS)
def test_bosh_init_and_our_validator_agree(real_tools, microbosh_manifest, tmp_path, mutate, real_says, stricter, at):
    doc = copy.deepcopy(microbosh_manifest)
    mutate(doc)
    real = deploy.bosh_init(real_tools, "deploy", doc, tmp_path)
    ours = our_problems(doc)
    # What bosh-init does is the premise of the row (pytest.fail, so that an xfail row cannot hide it).
    if real_says is None and not real.stopped_at_create_stemcell:
        pytest.fail(f"bosh-init was expected to accept this and reach create_stemcell:\n{real.output}")
    if real_says is not None and not (real.refused and real_says in real.errors):
        pytest.fail(f"bosh-init was expected to refuse with {real_says!r} before any CPI call:\n{real.output}")
    if real_says is not None:
        assert ours, f"bosh-init refuses ({real_says}); we accept"
        where = at or key_path_of(real_says)
        assert names_place(ours, where), f"bosh-init refuses at {where} ({real_says}); we name other places: {ours}"
    elif stricter:
        assert ours, f"we should refuse this: {stricter}"
    else:
        assert ours == [], f"bosh-init accepts this; we refuse: {ours}"


def test_a_manifest_that_is_not_a_mapping_is_refused_by_both(real_tools, tmp_path):
    real = deploy.bosh_init(real_tools, "deploy", "- name: bosh\n- releases: []\n", tmp_path)
    assert real.refused and "cannot unmarshal" in real.stderr, real.output
    assert our_problems(["name", "releases"])
