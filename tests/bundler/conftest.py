"""Fixtures shared by the tests of the connected side: the gem replica (real ``.gem`` files built by
``gem build`` behind a compact index on 127.0.0.1), used by the gem client, resolver, lock and CLI tests."""

import shutil

import pytest

from tests.support.gemrepo import RESOLUTION_GRAPH, cached_repo, serve_gem_replica

needs_gem = pytest.mark.skipif(shutil.which("gem") is None, reason="needs gem and ruby (Debian package 'ruby')")


@pytest.fixture(scope="session")
def gem_repo(tmp_path_factory):
    return cached_repo(RESOLUTION_GRAPH, tmp_path_factory.getbasetemp())


@pytest.fixture
def gem_server(gem_repo):
    with serve_gem_replica(gem_repo) as srv:
        yield srv
