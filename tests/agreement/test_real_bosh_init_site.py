"""The real bosh-init 0.0.81 against our site check: the guide's troubleshooting cases.

Site values that the real bosh-init takes as far as the CPI (the AWS CPI would fail there, after the
work began), which only our site check (``bosh-install manifests check``) stops before bosh-init
runs; and a static IP outside the subnet, which both refuse.  Base: the project's own MicroBOSH
manifest with real artifacts (tests/agreement/conftest.py).
"""

from __future__ import annotations

import copy

import pytest

from tests.support.deployfixtures import GUIDE_SITE
from tests.support.realbosh import deploy
from tests.support.realbosh import manifest as realmanifest
from tests.support.realbosh.mutations import put
from tests.support.realbosh.validator_adapter import our_problems

pytestmark = pytest.mark.real_bosh

# The guide's troubleshooting cases: site values the real bosh-init takes to the CPI (the AWS CPI
# fails there, after the work began), which only our site check stops before bosh-init runs.
TROUBLESHOOTING = [
    pytest.param(
        ("region: us-east-1\n", "region: us-east-1a\n"),
        put("cloud_provider.properties.aws.region", "us-east-1a"),  # the job's aws is the same (a YAML alias)
        "aws.region: 'us-east-1a' is an availability zone",
        id="availability-zone-as-region",
    ),
    pytest.param(
        ("instance_type: m3.xlarge", "instance_type: m1.large"),
        put("resource_pools.0.cloud_properties.instance_type", "m1.large"),
        "microbosh.instance_type: m1.large cannot run the HVM stemcell",
        id="m1-with-an-hvm-stemcell",
    ),
]


@pytest.mark.parametrize("site_edit, mutate, our_message", TROUBLESHOOTING)
def test_troubleshooting_cases_reach_the_cpi_and_only_our_site_check_stops_them(
    real_tools, microbosh_manifest, tmp_path, site_edit, mutate, our_message
):
    doc = copy.deepcopy(microbosh_manifest)
    mutate(doc)
    real = deploy.bosh_init(real_tools, "deploy", doc, tmp_path / "run")
    assert real.stopped_at_create_stemcell, real.output
    assert our_problems(doc) == []  # valid for bosh-init's rules: only the site check knows AWS
    checked = realmanifest.check(realmanifest.site(tmp_path, GUIDE_SITE.replace(*site_edit)))
    assert checked.returncode == 2 and our_message in checked.stderr, checked.stderr


def test_a_static_ip_outside_the_cidr_is_refused_by_bosh_init_and_by_our_site_check(
    real_tools, microbosh_manifest, tmp_path
):
    doc = copy.deepcopy(microbosh_manifest)
    doc["jobs"][0]["networks"][0]["static_ips"] = ["10.1.0.6"]
    real = deploy.bosh_init(real_tools, "deploy", doc, tmp_path / "run")
    assert real.refused and "static ip '10.1.0.6' must be within subnet range" in real.stderr, real.output
    assert our_problems(doc)
    checked = realmanifest.check(
        realmanifest.site(tmp_path, GUIDE_SITE.replace("static_ip: 10.0.0.6", "static_ip: 10.1.0.6"))
    )
    assert checked.returncode == 2 and "microbosh.static_ip: 10.1.0.6 is outside network.cidr" in checked.stderr
