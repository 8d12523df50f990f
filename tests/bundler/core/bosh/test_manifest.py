"""Manifests are read as bosh reads them (libyaml): a TAB in a plain scalar is text, not an error."""

import pytest
import yaml

from bundler.core.bosh.manifest import LOADER, load_manifest


def test_the_libyaml_loader_is_used_where_pyyaml_has_it():
    assert LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def test_a_tab_inside_a_plain_scalar_is_part_of_the_value():
    if LOADER is yaml.SafeLoader:  # pragma: no cover - PyYAML built without libyaml
        pytest.skip("PyYAML was built without libyaml")
    problems: list[str] = []
    doc = load_manifest(b"name: bosh\ndescription: the director\tand its jobs\n", "release.MF", problems)
    assert (doc, problems) == ({"name": "bosh", "description": "the director\tand its jobs"}, [])


def test_what_is_not_a_yaml_mapping_is_named():
    problems: list[str] = []
    assert load_manifest(b"- a\n- b\n", "stemcell.MF", problems) is None
    assert load_manifest(b"a: [\n", "jobs/x.tgz: job.MF", problems) is None
    assert problems[0] == "stemcell.MF is not a YAML mapping"
    assert problems[1].startswith("jobs/x.tgz: job.MF is not valid YAML (")
