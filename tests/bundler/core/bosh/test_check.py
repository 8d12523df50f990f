"""A tarball is checked against its lock entry: what it says it is (name, version, kind, AMIs), and
every problem names the artifact and the inner file."""

from bundler.core.bosh.check import check_artifact, inspect_tarball
from tests.support import boshfixtures as bf


def _check(path, artifact) -> list[str]:
    return [str(p) for p in check_artifact(path, artifact)]


def test_a_renamed_release_is_caught(tmp_path):
    built = bf.write_release(tmp_path, "bosh", "233", manifest_name="bosh-evil")
    problems = _check(built.path, bf.release_artifact(built, name="bosh"))
    assert problems == [
        "release bosh 233 (releases/bosh-233.tgz): release.MF names the release 'bosh-evil', the lock expects 'bosh'"
    ]
    problems = _check(built.path, bf.release_artifact(built, name="bosh", version="234"))
    assert any("release.MF gives version '233', the lock expects '234'" in p for p in problems)


def test_a_light_stemcell_is_checked_against_the_locked_amis(tmp_path):
    built = bf.write_stemcell(tmp_path, bf.HVM, "3147", light=True, ami={"us-east-1": "ami-e62f158c"})
    assert check_artifact(built.path, bf.stemcell_artifact(built)) == []
    problems = _check(built.path, bf.stemcell_artifact(built, ami={"us-east-1": "ami-00000000"}))
    assert problems == [
        f"stemcell {bf.HVM} 3147 (stemcells/{built.filename}): stemcell.MF cloud_properties.ami.us-east-1"
        " is ami-e62f158c, the lock says ami-00000000"
    ]
    # a heavy tarball where the lock wants a light one
    heavy = bf.write_stemcell(tmp_path / "h", bf.HVM, "3147")
    problems = _check(heavy.path, bf.stemcell_artifact(built))
    assert any("image has 32768 bytes; a light stemcell's image is empty" in p for p in problems)


def test_a_stemcell_is_not_a_release(tmp_path):
    st = bf.write_stemcell(tmp_path, bf.HVM, "3147", light=True)
    rel = bf.write_release(tmp_path, "bosh", "233")
    art = bf.release_artifact(rel)
    problems = _check(st.path, art)
    assert problems == ["release bosh 233 (releases/bosh-233.tgz): release.MF is missing"]
    assert inspect_tarball(st.path).kind == "stemcell"
