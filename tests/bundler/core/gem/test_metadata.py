"""A ``.gem``'s own metadata: read from its ``metadata.gz`` (real gems built by ``gem build``), and
compared with what the lock records."""

import shutil

import pytest

from bundler.core.gem.metadata import check_artifact, read_gem_metadata
from bundler.core.lock import Artifact
from tests.support.gemrepo import RESOLUTION_GRAPH, cached_repo

pytestmark = pytest.mark.skipif(shutil.which("gem") is None, reason="needs gem and ruby (Debian package 'ruby')")


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return cached_repo(RESOLUTION_GRAPH, tmp_path_factory.getbasetemp())


def test_metadata_reader_sees_runtime_dependencies_only(repo):
    meta = read_gem_metadata(repo / "gems" / "top-1.0.0.gem")
    assert (meta.name, meta.version, meta.platform) == ("top", "1.0.0", "ruby")
    assert [n for n, _ in meta.dependencies] == ["left", "right"]  # not the development dependency


def test_check_artifact_reports_a_file_that_is_not_a_gem(tmp_path):
    bogus = tmp_path / "x.gem"
    bogus.write_bytes(b"not a tar")
    a = Artifact("gem", "x", "1.0", "http://127.0.0.1/x.gem", 9, "0" * 64, "compact-index", "gems/x-1.0.gem")
    [problem] = [str(p) for p in check_artifact(bogus, a)]
    assert problem.startswith("gems/x-1.0.gem: ") and "metadata.gz" in problem


def test_check_artifact_compares_only_what_the_lock_records(repo):
    top = repo / "gems" / "top-1.0.0.gem"
    bare = Artifact("gem", "top", "1.0.0", "http://127.0.0.1/t.gem", 1, "0" * 64, "compact-index", "gems/top-1.0.0.gem")
    assert check_artifact(top, bare) == []
    broken = Artifact(**{**bare.to_json(), "meta": {"dependencies": [["left", "=> 1"]]}})
    assert [str(p) for p in check_artifact(top, broken)] == [
        "gems/top-1.0.0.gem: the lock's meta for this gem is malformed: malformed gem requirement '=> 1' (in '=> 1')"
    ]
