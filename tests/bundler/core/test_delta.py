"""Delta bundles: ``bosh-bundle build --since OLD.lock`` packs only what OLD.lock lacks, with the full
new lock and ``delta.json``; both verify commands accept it, and nothing to pack is refused."""

from __future__ import annotations

import json

import pytest

from bundler import cli
from bundler.core.delta import DELTA, read_delta
from bundler.core.errors import InputError
from bundler.core.verify import verify_bundle
from installer import cli as install_cli
from tests.support.synthetic import artifact, file_url, make_files, write_test_lock


def _locks(tmp_path):
    files = make_files(tmp_path / "src", {"alpha": 50_000, "beta": 30_000})
    old = [artifact(n, d, file_url(tmp_path / "src" / n)) for n, d in files.items()]
    write_test_lock(tmp_path / "old.lock", old)
    newer = make_files(tmp_path / "src2", {"gamma": 20_000})
    new = [*old, artifact("gamma", newer["gamma"], file_url(tmp_path / "src2" / "gamma"))]
    write_test_lock(tmp_path / "new.lock", new)
    return tmp_path / "old.lock", tmp_path / "new.lock"


def _build(tmp_path, lock, out, *extra):
    args = ["build", "--lock", str(lock), "--out", str(tmp_path / out), "--cache", str(tmp_path / "cache")]
    return cli.main([*args, "--quiet", *extra])


def test_build_since_packs_only_what_the_old_lock_lacks(tmp_path, capsys):
    old, new = _locks(tmp_path)
    assert _build(tmp_path, new, "full") == 0
    assert _build(tmp_path, new, "delta", "--since", str(old)) == 0
    delta_dir = tmp_path / "delta"
    delta = read_delta(delta_dir)
    assert delta is not None and len(delta.packed) == 1 and delta.packed[0].endswith("gamma")
    assert sorted(delta.base) == sorted(a["path"] for a in json.loads(old.read_text())["artifacts"])
    assert (delta_dir / "bundle.lock").read_bytes() == new.read_bytes()  # the full new lock
    assert (delta_dir / "payload.7z").stat().st_size < (tmp_path / "full/payload.7z").stat().st_size / 2
    assert DELTA in (delta_dir / "SHA256SUMS").read_text()
    report = verify_bundle(delta_dir)
    assert report.ok, report.problems
    assert report.members_checked == 1
    assert cli.main(["verify", str(delta_dir)]) == 0 and install_cli.main(["verify", str(delta_dir)]) == 0


def test_build_since_the_same_lock_is_refused(tmp_path, capsys):
    _old, new = _locks(tmp_path)
    assert _build(tmp_path, new, "delta", "--since", str(new)) == 2
    assert "nothing to put in a delta" in capsys.readouterr().err
    assert not (tmp_path / "delta").exists()


def test_an_edited_delta_json_is_caught(tmp_path):
    old, new = _locks(tmp_path)
    assert _build(tmp_path, new, "delta", "--since", str(old)) == 0
    (tmp_path / "delta" / DELTA).write_text("{}")
    with pytest.raises(InputError, match="delta.json: unreadable"):
        read_delta(tmp_path / "delta")
    assert any("delta.json" in p for p in verify_bundle(tmp_path / "delta").problems)
