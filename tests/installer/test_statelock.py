"""One run at a time: the state directory's lock refuses a second holder, naming the first's PID,
and is released when the holder dies (even by SIGKILL)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from installer.statelock import FD_ENV, Busy, is_held, state_lock
from tests.support.paths import REPO

HOLD = (
    "import sys, time; from installer.statelock import state_lock\n"
    "with state_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)\n"
)


def _holder(state):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(state)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_is_refused_naming_the_holders_pid(tmp_path):
    state = tmp_path / "state"
    proc = _holder(state)
    try:
        assert is_held(state) == proc.pid
        with pytest.raises(Busy) as err, state_lock(state, "install"):
            pass
        message = str(err.value)
        assert f"held by process {proc.pid}" in message and "\n" not in message
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # the kernel dropped the lock of the dead holder: the next run gets it
    assert is_held(state) is None
    with state_lock(state) as path:
        assert path.read_text().strip() == str(os.getpid())
        assert is_held(state) == os.getpid()
    assert is_held(state) is None


def test_a_lock_handed_down_by_install_sh_is_taken_as_held(tmp_path, monkeypatch):
    state = tmp_path / "state"
    state.mkdir()
    (state / "lock").write_text("4242\n")
    # what install.sh does: flock(1) on fd 9, then run the installer with BOSH_OFFLINE_LOCK_FD=9
    script = (
        f'exec 9<>"{state}/lock"; flock -n 9 || exit 3; '
        f'BOSH_OFFLINE_LOCK_FD=9 "{sys.executable}" -c "from installer.statelock import state_lock\n'
        f'with state_lock(\\"{state}\\"): print(open(\\"{state}/lock\\").read().strip())"'
    )
    proc = subprocess.run(["sh", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "4242"  # the shell's PID stays the one named
    monkeypatch.setenv(FD_ENV, "9")  # a descriptor that is not this lock is ignored
    started = time.monotonic()
    with state_lock(state):
        assert is_held(state) == os.getpid()
    assert time.monotonic() - started < 5
