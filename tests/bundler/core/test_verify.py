"""Verifying a directory that is not a bundle (whole bundles are verified through the CLIs in
tests/bundler/test_build.py)."""

from __future__ import annotations

import pytest

from bundler.core.errors import InputError
from bundler.core.verify import verify_bundle


def test_verify_reports_a_directory_without_sums_or_payload(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "bundle.lock").write_text("{}")
    report = verify_bundle(tmp_path / "b")
    assert "SHA256SUMS is missing: the bundle's files cannot be checked" in report.problems
    assert "no payload: neither payload.7z nor payload.7z.001 is there" in report.problems
    with pytest.raises(InputError, match="no such bundle directory"):
        verify_bundle(tmp_path / "nope")
