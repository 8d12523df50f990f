"""Fixtures of the real-tool agreement tests (tests/agreement/test_real_*.py, marked ``real_bosh``).

``real_tools``: the real bosh-init 0.0.81 and bosh CLI v7.9.13 (built once when missing; the tests
skip, with the reason, when ../shared/upstream is absent or the machine cannot run them offline).
``real_releases``: every real release tarball of the fixtures, by label (tests/support/realbosh/releases).
``light_stemcell``: a real-format light stemcell.  ``microbosh``: the project's rendered MicroBOSH
manifest (``Rendered``) and ``microbosh_manifest``: that manifest with the real ``bosh`` release, the
test CPI as ``bosh-aws-cpi`` and the light stemcell in it, which the real bosh-init takes as far as
its first CPI call.
"""

from __future__ import annotations

import pytest

from tests.support.realbosh import manifest as realmanifest
from tests.support.realbosh.releases import build_all, cache_root
from tests.support.realbosh.tools import ensure_tools, skip_reason


@pytest.fixture(scope="session")
def real_tools():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    try:
        return ensure_tools()
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def real_releases(real_tools, tmp_path_factory):
    return build_all(real_tools, cache_root(tmp_path_factory.mktemp("real-releases")))


@pytest.fixture(scope="session")
def light_stemcell(tmp_path_factory):
    return realmanifest.light_stemcell(tmp_path_factory.mktemp("stemcell"))


@pytest.fixture(scope="session")
def microbosh(tmp_path_factory):
    return realmanifest.render(tmp_path_factory.mktemp("microbosh"))


@pytest.fixture(scope="session")
def microbosh_manifest(microbosh, real_releases, light_stemcell):
    releases = {"bosh": real_releases["bosh-final-sha1"].path, "bosh-aws-cpi": real_releases["test-cpi-dev-sha1"].path}
    return realmanifest.with_artifacts(microbosh.manifest, releases, light_stemcell.path)
