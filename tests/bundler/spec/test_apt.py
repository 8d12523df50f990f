"""The one parser of one-line apt sources (``deb [signed-by=…] URL SUITE COMPONENT…``)."""

import pytest

from bundler.core.errors import InputError
from bundler.spec import parse_one_line_source


def test_one_line_apt_source():
    src = parse_one_line_source("deb [signed-by=/k.gpg arch=amd64] http://h.invalid/debian bookworm main contrib")
    assert (src.url, src.suites, src.components, src.keyring) == (
        "http://h.invalid/debian",
        ("bookworm",),
        ("main", "contrib"),
        "/k.gpg",
    )
    with pytest.raises(InputError, match="signed-by"):
        parse_one_line_source("deb http://h.invalid/debian bookworm main")
