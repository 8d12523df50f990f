"""The control stanza of a .deb is read from the file itself (ar + control.tar.*), by the one deb822 reader."""

import pytest

from bundler.core.deb.control import control_fields
from bundler.core.errors import BundleError
from tests.support.installfixtures import make_deb


def test_control_fields_of_a_built_deb(tmp_path):
    b = make_deb(tmp_path, "t-pre", "1.0", pre_depends="t-base (>= 1.0)")
    assert control_fields(b)["Pre-Depends"] == "t-base (>= 1.0)"
    assert control_fields(b)["Package"] == "t-pre" and control_fields(b)["Version"] == "1.0"


def test_a_file_that_is_not_an_ar_archive_is_refused(tmp_path):
    bad = tmp_path / "x.deb"
    bad.write_bytes(b"not a deb")
    with pytest.raises(BundleError, match="x.deb: not a .deb"):
        control_fields(bad)
