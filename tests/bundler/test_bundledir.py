"""Work directories beside OUT: a run killed with SIGKILL leaves one, the next run into OUT removes it,
and one a live run holds, or one not named as ours for that OUT, is left alone."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bundler.build import build_bundle
from bundler.bundledir import new_bundle_dir, remove_stale
from bundler.core.bundlemeta import new_meta
from bundler.core.verify import verify_bundle
from bundler.resplit import resplit_bundle
from tests.support.paths import REPO
from tests.support.smallbundle import small_bundle, snapshot

ENV = {**os.environ, "PYTHONPATH": str(REPO)}

# a real build that stalls once it has started writing the payload, until it is killed
STALLED_BUILD = """
import sys, time
from pathlib import Path
from bundler.build import build_bundle
from bundler.core.progress import NullBar, TermProgress

class Stall(NullBar):
    def advance(self, nbytes):
        print("packing", flush=True)
        time.sleep(60)

class Stalling(TermProgress):
    def bar(self, phase, total=0, files=0):
        return Stall() if phase == "pack" else NullBar()

build_bundle(Path(sys.argv[1]), Path(sys.argv[2]), cache=Path(sys.argv[3]), progress=Stalling(quiet=True))
"""

# a run holding its work directory (with a file in it) until it is killed
HOLDER = """
import sys, time
from pathlib import Path
from bundler.bundledir import new_bundle_dir
with new_bundle_dir(Path(sys.argv[1]), sys.argv[2], "a test") as tmp:
    (tmp / "payload.7z").write_bytes(b"half")
    print("packing", flush=True)
    time.sleep(60)
"""


def _started(script: str, *args: Path | str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", script, *map(str, args)], env=ENV, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "packing\n"
    return proc


def _wait_for(pattern: str, parent: Path) -> None:
    """Until the stalled build's writer thread has created the payload file."""
    deadline = time.monotonic() + 10
    while not list(parent.glob(pattern)) and time.monotonic() < deadline:
        time.sleep(0.01)


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()


def _leftovers(parent: Path, out: str = "out") -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{out}."))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A lock of two small files and its cache, fetched once."""
    tmp = tmp_path_factory.mktemp("lock")
    small_bundle(tmp, {"alpha": 300_000, "beta": 2_000}, new_meta(3))
    return tmp


def test_build_killed_with_sigkill_is_swept_by_the_next_build(built, tmp_path, caplog):
    lock, cache, out = built / "bundle.lock", built / "cache", tmp_path / "out"
    stalled = _started(STALLED_BUILD, lock, out, cache)
    _wait_for(".out.*.building/payload.7z", tmp_path)
    _kill(stalled)
    left = _leftovers(tmp_path)
    assert len(left) == 2 and left[1] == left[0] + ".lock"  # the work directory and its lock file
    assert (tmp_path / left[0] / "payload.7z").exists() and not out.exists()

    caplog.set_level(logging.INFO, logger="bundler.bundledir")
    build_bundle(lock, out, cache=cache, meta=new_meta(4))
    assert _leftovers(tmp_path) == []
    assert f"removed {tmp_path / left[0]}, left by an interrupted build or re-split" in caplog.text
    report = verify_bundle(out)
    assert report.ok and report.members_checked == 2
    assert snapshot(out).keys() == snapshot(built / "bundle").keys()


def test_a_leftover_held_by_a_live_run_is_left_alone(built, tmp_path, caplog):
    lock, cache, out = built / "bundle.lock", built / "cache", tmp_path / "out"
    live = _started(HOLDER, out, ".building")
    try:
        held = _leftovers(tmp_path)
        before = snapshot(tmp_path / held[0])
        caplog.set_level(logging.INFO, logger="bundler.bundledir")
        build_bundle(lock, out, cache=cache, meta=new_meta(4))
        assert verify_bundle(out).ok
        assert _leftovers(tmp_path) == held and snapshot(tmp_path / held[0]) == before
        assert "removed" not in caplog.text
        assert live.poll() is None  # still running, undisturbed
    finally:
        _kill(live)
    assert remove_stale(out) == [tmp_path / held[0]]  # once it is dead, its lock can be taken
    assert _leftovers(tmp_path) == []


def test_resplit_sweeps_a_killed_resplit_into_the_same_out(built, tmp_path):
    out = tmp_path / "split"
    _kill(_started(HOLDER, out, ".resplit"))
    assert len(_leftovers(tmp_path, "split")) == 2
    result = resplit_bundle(built / "bundle", out, 100_000)
    assert result.report.ok and len(result.volumes) == 4
    assert _leftovers(tmp_path, "split") == []


def _lock_file(path: Path) -> Path:
    path.write_text("1\n")
    return path


def test_only_our_names_for_this_out_are_removed(tmp_path):
    """Free locks all, but not a work directory of ours for ``out``: nothing of it is touched."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("x")
    for work in (".out.abcdefgh.building", ".outx.abcdefgh.building", ".out.abcdefgh.staging", ".out.abc.building",
                 "out.abcdefgh.building", ".out.abcdefgh.building.old"):  # fmt: skip
        (tmp_path / work).mkdir()
        (tmp_path / work / "payload.7z").write_text("x")
        if work != ".out.abcdefgh.building":  # this one has no lock file: nothing says it is stale
            _lock_file(tmp_path / f"{work}.lock")
    (tmp_path / ".out.zzzzzzzz.building").symlink_to(elsewhere)  # a link named like ours: not followed
    _lock_file(tmp_path / ".out.zzzzzzzz.building.lock")
    (tmp_path / ".out.yyyyyyyy.resplit").mkdir()
    (tmp_path / ".out.yyyyyyyy.resplit.lock").symlink_to(_lock_file(elsewhere / "lock"))
    before = snapshot(tmp_path)
    assert remove_stale(tmp_path / "out") == []
    assert snapshot(tmp_path) == before


def test_a_lock_file_left_after_the_rename_is_removed(tmp_path):
    """Killed between the rename into OUT and removing the lock file: only the lock file is left."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "payload.7z").write_text("a finished bundle")
    _lock_file(tmp_path / ".out.q1w2e3r4.building.lock")
    assert remove_stale(out) == [tmp_path / ".out.q1w2e3r4.building"]
    assert _leftovers(tmp_path) == [] and (out / "payload.7z").read_text() == "a finished bundle"


def test_a_finished_run_leaves_no_lock_and_a_failed_one_nothing(tmp_path):
    with new_bundle_dir(tmp_path / "out", ".building", "a test") as tmp:
        (tmp / "a").write_text("a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and (tmp_path / "out" / "a").exists()
    with pytest.raises(RuntimeError), new_bundle_dir(tmp_path / "other", ".resplit", "a test") as tmp:
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
