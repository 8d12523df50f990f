"""The lock: deterministic bytes, validated fields, safe paths."""

import pytest

from bundler.core.errors import InputError
from bundler.core.lock import Artifact, LockPart, assemble, parse_lock, write_lock

SHA = "a" * 64


def _art(name, path, sha=SHA, kind="deb"):
    return Artifact(kind, name, "1.0", f"http://h.invalid/{path}", 10, sha, "pinned", path, {"arch": "amd64"})


def test_lock_bytes_do_not_depend_on_resolution_order(tmp_path):
    a, b = _art("a", "debs/a.deb"), _art("b", "debs/b.deb")
    one = assemble("s", {"os": "debian"}, [LockPart((b, a), "debs", {"install_order": ["a", "b"]})])
    two = assemble("s", {"os": "debian"}, [LockPart((a, b), "debs", {"install_order": ["a", "b"]})])
    assert one.dumps() == two.dumps()
    write_lock(one, tmp_path / "bundle.lock")
    assert parse_lock((tmp_path / "bundle.lock").read_text()) == one


@pytest.mark.parametrize("path", ["/etc/passwd", "debs/../../x", "debs//x", "./debs/x", "debs\\x", ""])
def test_unsafe_bundle_paths_are_refused(path):
    with pytest.raises(InputError, match="is not a relative path inside the bundle"):
        _art("a", path)


def test_two_artifacts_cannot_share_a_path():
    with pytest.raises(InputError, match="two artifacts want the bundle path debs/a.deb"):
        assemble("s", {}, [LockPart((_art("a", "debs/a.deb"), _art("b", "debs/a.deb", "b" * 64)))])


def test_malformed_lock_names_the_artifact():
    with pytest.raises(InputError, match=r"artifacts\[0\]: missing or malformed field 'sha256'"):
        parse_lock(
            '{"format": 1, "artifacts": [{"kind": "deb", "name": "a", "version": "1", "url": "u",'
            ' "size": 1, "trust": "pinned", "path": "debs/a"}]}'
        )
