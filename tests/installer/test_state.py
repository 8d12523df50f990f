"""The state directory's one layout, and --state-dir kept inside --root."""

from pathlib import Path

import pytest

from bundler.core.errors import InputError
from installer.state import StateDir


def test_layout_and_defaults(tmp_path):
    state = StateDir(tmp_path)
    assert state.journal == tmp_path / "journal.json" and state.payload == tmp_path / "payload"
    assert state.manifest("bosh") == tmp_path / "deploy" / "bosh.yml"
    assert StateDir(tmp_path, tmp_path / "elsewhere").payload == tmp_path / "elsewhere"
    assert StateDir.for_root(Path("/"), False, None).path == Path("/var/lib/bosh-offline")
    assert StateDir.for_root(tmp_path, True, None).path == tmp_path / "var/lib/bosh-offline"


def test_state_dir_outside_the_root_is_refused(tmp_path):
    with pytest.raises(InputError, match="outside --root"):
        StateDir.for_root(tmp_path / "root", True, tmp_path / "state")
