"""Unpacking a source tarball: every member checked before anything is written."""

from __future__ import annotations

import io
import tarfile

import pytest

from bundler.core.errors import IntegrityError
from bundler.core.sourcetar import unpack


def _tar(path, *members):
    with tarfile.open(path, "w:gz") as tar:
        for name, kind, link in members:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, link
            data = b"x: 1\n" if kind == tarfile.REGTYPE else b""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_github_source_tarball_with_a_relative_symlink_unpacks_to_its_top(tmp_path):
    src = _tar(tmp_path / "s.tgz", ("bd/misc/a.yml", tarfile.REGTYPE, ""), ("bd/b.yml", tarfile.SYMTYPE, "misc/a.yml"))
    root = unpack(src, tmp_path / "out")
    assert root == tmp_path / "out" / "bd" and (root / "b.yml").read_text() == "x: 1\n"


@pytest.mark.parametrize(
    "member, named",
    [
        (("bd/../../etc/x", tarfile.REGTYPE, ""), "a path outside the tree"),
        (("bd/l", tarfile.SYMTYPE, "../../etc/passwd"), "a symlink out of the tree"),
        (("bd/l", tarfile.SYMTYPE, "/etc/passwd"), "a symlink out of the tree"),
        (("bd/dev", tarfile.CHRTYPE, ""), "not a file, directory or symlink"),
    ],
)
def test_an_unsafe_member_refuses_the_whole_tarball(tmp_path, member, named):
    src = _tar(tmp_path / "s.tgz", ("bd/ok.yml", tarfile.REGTYPE, ""), member)
    with pytest.raises(IntegrityError, match=named):
        unpack(src, tmp_path / "out")
    assert not (tmp_path / "out" / "bd" / "ok.yml").exists()
