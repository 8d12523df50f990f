"""All problems of a site and its manifests come together, each naming the site field to change."""

import pytest
import yaml

from bundler.core.errors import InputError
from installer.deploy import prepared as deploy
from installer.manifests.check import raise_if_any
from installer.state import StateDir
from tests.support.deployfixtures import GUIDE_SITE, make_fixture


def _problems(tmp_path, text):
    fx = make_fixture(tmp_path, text)
    paths = StateDir(tmp_path / "state", fx.payload)
    return fx, deploy.prepare(fx.site_path, fx.lock_path, paths, director_uuid=None).problems


def test_all_problems_are_reported_together(tmp_path):
    doc = yaml.safe_load(GUIDE_SITE)
    doc["aws"]["region"] = "us-east-1a"
    doc["microbosh"]["static_ip"] = "10.1.0.6"
    doc["microbosh"]["instance_type"] = "m1.small"
    _, problems = _problems(tmp_path, yaml.safe_dump(doc))
    fields = {p.split(": ")[1] for p in problems}
    assert {"aws.region", "microbosh.static_ip", "microbosh.instance_type"} <= fields
    with pytest.raises(InputError, match="problems:"):
        raise_if_any(problems)


def test_vars_store_inside_the_payload_is_refused(tmp_path):
    fx = make_fixture(tmp_path, GUIDE_SITE.replace("vars_store: vars/vars.yml", "vars_store: payload/vars.yml"))
    problems = deploy.prepare(fx.site_path, fx.lock_path, StateDir(tmp_path / "s", fx.payload)).problems
    assert any(": vars_store: " in p and "inside the extracted payload" in p for p in problems)
