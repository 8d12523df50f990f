"""Hostile hosts and faults (issue 13): vars stores we did not write, planted symlinks, secrets on
command lines and in logs, concurrent builds, kill -9 and SIGINT; each refused or survived with one
line, the right exit code, nothing touched outside the intended place and nothing lost.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bundler.core.verify import verify_bundle
from installer.deploy.boshcli import BoshCli
from installer.manifests.secrets import HEADER, VarsStore
from installer.process import Runner, StepError
from tests.support.httpserver import LoopbackServer
from tests.support.paths import REPO
from tests.support.synthetic import artifact, file_url, make_files, write_test_lock


def state_of(path: Path) -> tuple:
    st = path.lstat()
    body = os.readlink(path) if path.is_symlink() else path.read_bytes() if path.is_file() else None
    return (stat.S_IMODE(st.st_mode), st.st_uid, body)


def refused(store: Path, expect: str) -> None:
    with pytest.raises(Exception, match=expect) as err:
        VarsStore(store).secrets_for("bosh")
    assert err.value.exit_code == 2 and "\n" not in str(err.value)


# --- vars stores --------------------------------------------------------------------------------


def test_vars_store_we_did_not_write_is_left_untouched(tmp_path):
    store = tmp_path / "vars.yml"
    store.write_text("admin_password: the operator's own\n")
    store.chmod(0o644)
    before = state_of(store)
    refused(store, "not a vars store written by bosh-install")
    assert state_of(store) == before  # neither its mode nor its content changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vars.yml"]


def test_vars_store_symlink_is_not_replaced(tmp_path):
    target = tmp_path / "elsewhere.yml"
    target.write_text(HEADER + "bosh: {}\n")
    (tmp_path / "vars.yml").symlink_to(target)
    before, target_before = state_of(tmp_path / "vars.yml"), state_of(target)
    refused(tmp_path / "vars.yml", "vars_store is a symlink; it is not replaced")
    assert state_of(tmp_path / "vars.yml") == before and state_of(target) == target_before


def test_dangling_vars_store_symlink_is_not_followed(tmp_path):
    (tmp_path / "vars.yml").symlink_to(tmp_path / "created-through-the-link.yml")
    refused(tmp_path / "vars.yml", "is a symlink")
    assert not (tmp_path / "created-through-the-link.yml").exists()


def test_vars_store_that_is_a_directory(tmp_path):
    (tmp_path / "vars.yml").mkdir()
    refused(tmp_path / "vars.yml", "is not a regular file")


def test_vars_store_of_another_user(tmp_path):
    store = tmp_path / "vars.yml"
    store.write_text(HEADER + "bosh: {}\n")
    os.chown(store, 65534, 65534)
    before = state_of(store)
    refused(store, "belongs to uid 65534, not to us; left untouched")
    assert state_of(store) == before


def test_vars_store_with_an_alias_bomb(tmp_path):
    store = tmp_path / "vars.yml"
    store.write_text(HEADER + "a: &a [x, x]\nb: &b [*a, *a]\nbosh: *b\n")
    os.chmod(store, 0o600)
    before = state_of(store)
    refused(store, "aliases .* are not allowed")
    assert state_of(store) == before


# --- secrets and logs ---------------------------------------------------------------------------


def test_logs_are_private_from_creation_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        Runner(tmp_path / "state" / "logs").run(["echo", "hello"], log_name="x.log")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "state" / "logs").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "state" / "logs" / "x.log").stat().st_mode) == 0o600


def test_log_left_by_a_killed_run_is_scrubbed_at_the_next_start(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "bosh-init.log").write_text("mbus https://mbus:S3cretPassw0rd@10.0.0.6:6868\n")  # bosh-init's own
    Runner(logs).redact("S3cretPassw0rd")
    assert (logs / "bosh-init.log").read_text() == "mbus https://mbus:<redacted>@10.0.0.6:6868\n"
    assert stat.S_IMODE((logs / "bosh-init.log").stat().st_mode) == 0o600


def test_planted_log_symlink_is_not_written_through(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (logs / "x.log").symlink_to(victim)
    with pytest.raises(StepError) as err:
        Runner(logs).run(["echo", "hi"], log_name="x.log")
    assert "a symlink: not writing through it" in str(err.value) and "\n" not in str(err.value)
    assert victim.read_text() == "precious\n"


def test_bosh_login_password_never_on_a_command_line(tmp_path):
    fake = tmp_path / "bosh"
    fake.write_text(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$0.argv\"\ntr '\\0' ' ' < /proc/$$/cmdline >> \"$0.argv\"\n"
        'read -r pw; printf \'%s\' "$pw" > "$0.stdin"\necho "Logged in as \'$4\'"\n'
    )
    fake.chmod(0o755)
    runner = Runner(tmp_path / "logs")
    runner.redact("Adm1nPassw0rd")
    BoshCli(str(fake), tmp_path / "bosh_config", runner).login("Adm1nPassw0rd")
    assert "Adm1nPassw0rd" not in (tmp_path / "bosh.argv").read_text()
    assert (tmp_path / "bosh.stdin").read_text() == "Adm1nPassw0rd"
    assert "Adm1nPassw0rd" not in (tmp_path / "logs" / "bosh-login.log").read_text()


# --- concurrency, kill -9 and SIGINT -------------------------------------------------------------

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def _lock(tmp_path: Path, sizes: dict[str, int], url=None) -> Path:
    files = make_files(tmp_path / "src", sizes)
    arts = [artifact(n, d, url(n) if url else file_url(tmp_path / "src" / n)) for n, d in files.items()]
    write_test_lock(tmp_path / "bundle.lock", arts)
    return tmp_path / "bundle.lock"


def _build_cmd(tmp_path: Path, lock: Path, out: str = "out", cache: str = "cache") -> list[str]:
    return [sys.executable, "-m", "bundler", "build", "--lock", str(lock), "--out", str(tmp_path / out),
            "--cache", str(tmp_path / cache), "--quiet"]  # fmt: skip


def test_two_builds_into_one_directory_at_once(tmp_path):
    lock = _lock(tmp_path, {"a": 3_000_000, "b": 1_000_000})
    procs = [
        subprocess.Popen(_build_cmd(tmp_path, lock, cache=f"c{i}"), env=ENV, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    results = [(p.wait(120), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes[0] == 0 and codes[1] in (1, 2), results
    loser = next(err for code, err in results if code)
    assert loser.count("\n") == 1 and "bosh-bundle: error:" in loser
    assert verify_bundle(tmp_path / "out").ok
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".building")]


def test_kill_9_while_packing_leaves_nothing_a_later_build_keeps(tmp_path):
    lock = _lock(tmp_path, {"big": 60_000_000, "small": 1000})
    proc = subprocess.Popen(_build_cmd(tmp_path, lock), env=ENV, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.*.building/payload.7z*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert not (tmp_path / "out").exists()  # never a half bundle under the final name
    stale = list(tmp_path.glob(".out.*.building"))
    done = subprocess.run(_build_cmd(tmp_path, lock), env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = verify_bundle(tmp_path / "out")
    assert report.ok and report.members_checked == 2  # the stale staging directory was not taken in
    assert all(s.name not in {p.name for p in (tmp_path / "out").iterdir()} for s in stale)


def _build_until_requested(tmp_path, srv, data: bytes) -> subprocess.Popen:
    """``bosh-bundle build`` of a lock naming ``srv``'s /tool, started and waited for until it asks for it."""
    lock = tmp_path / "bundle.lock"
    write_test_lock(lock, [artifact("tool", data, srv.url("/tool"))])
    proc = subprocess.Popen(_build_cmd(tmp_path, lock), env=ENV, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while srv.requests["/tool"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    return proc


def test_sigint_during_a_download_exits_130_with_one_line(tmp_path):
    data = make_files(tmp_path / "srv", {"tool": 4_000_000})["tool"]
    with LoopbackServer(routes={"/tool": data}) as srv:
        srv.faults["/tool"] = {"rate": 200_000}
        proc = _build_until_requested(tmp_path, srv, data)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        code, err = proc.wait(30), proc.stderr.read()
    assert code == 130 and err.strip().splitlines() == ["bosh-bundle: interrupted"], err
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".building")]


def test_sigint_while_a_server_stalls_exits_130_at_once(tmp_path):
    data = b"x" * 10_000
    with LoopbackServer(routes={"/tool": data}) as srv:
        srv.faults["/tool"] = {"delay": 20}
        proc = _build_until_requested(tmp_path, srv, data)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code, err = proc.wait(30), proc.stderr.read()
    assert code == 130 and err.strip().splitlines() == ["bosh-bundle: interrupted"], err
    assert time.monotonic() - started < 5  # not after the stalled request times out
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("delay", [0.15, 0.3, 0.5])
def test_sigint_while_the_cli_starts_exits_130_without_a_traceback(tmp_path, delay):
    """A Ctrl-C while the command modules load (before any command runs) is one line too."""
    cmd = [sys.executable, "-m", "installer", "verify", "--bundle", str(tmp_path / "none")]
    proc = subprocess.Popen(cmd, env=ENV, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    code, err = proc.wait(30), proc.stderr.read()
    assert "Traceback" not in err, err
    # interrupted (130), killed by the signal before Python's handler exists (-2), or already done (2)
    assert code in (130, -signal.SIGINT, 2), (code, err)
    assert code != 130 or err.strip().splitlines() == ["bosh-install: interrupted"], err
