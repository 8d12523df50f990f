"""``--quiet`` on a terminal: publish, fetch and verify draw their progress bar unless asked not to.

Each command runs as its own process (``python3 -m bundler.cli`` / ``python3 -m installer.cli``)
whose stdout and stderr are one pseudo-terminal, so ``TermProgress`` sees a terminal as an operator's
shell would; the S3 store is moto's server on 127.0.0.1 in this process.  A tqdm bar is drawn when
it is made and when it is closed (whatever ``mininterval``), so even a short transfer shows it.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from bundler import cli as bundle_cli
from tests.support.motoserver import DUMMY_ENV, MotoServer
from tests.support.paths import REPO
from tests.support.synthetic import artifact, make_files, write_test_lock

BUCKET = "quiet"
BAR = "MB/s"  # the rate column of every byte bar (``bundler.core.progress``); no summary line has it
TIMEOUT = 30


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with MotoServer(tmp_path_factory.mktemp("aws")) as srv:
        srv.reset()
        srv.client("s3").create_bucket(Bucket=BUCKET)
        yield srv


def child_env(tmp) -> dict[str, str]:
    """The test process's environment with the dummy credentials and no AWS config of the operator's."""
    env = {k: v for k, v in os.environ.items() if k != "AWS_PROFILE"}
    nowhere = str(tmp / "no-aws-config")
    env.update(DUMMY_ENV, AWS_CONFIG_FILE=nowhere, AWS_SHARED_CREDENTIALS_FILE=nowhere, PYTHONPATH=str(REPO))
    return env


def on_a_terminal(module: str, argv: list[str], env: dict[str, str], size=(40, 120)) -> tuple[int, str]:
    """Run ``python3 -m module argv`` with stdout and stderr on a pty of ``size`` (lines, columns);
    its exit code and output."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *argv], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env, cwd=REPO
    )
    os.close(slave)
    out, deadline = bytearray(), time.monotonic() + TIMEOUT
    try:
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([master], [], [], left)[0]:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end of the terminal
                break
            if not data:
                break
            out += data
        else:
            raise AssertionError(f"{module} {argv}: still running after {TIMEOUT} s; output so far: {out!r}")
        return proc.wait(timeout=TIMEOUT), out.decode("utf-8", "replace")
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def published(aws, tmp_path_factory):
    """A small bundle directory (two volumes and a lock, 7 MB) and what the terminal showed for its publishes."""
    root = tmp_path_factory.mktemp("quiet")
    bundle = root / "bundle"
    files = make_files(
        bundle, {"payload.7z.001": 5 * 1024 * 1024, "payload.7z.002": 2 * 1024 * 1024, "bundle.lock": 40}
    )
    (bundle / "SHA256SUMS").write_text("".join(f"{artifact(n, d, '').sha256}  {n}\n" for n, d in sorted(files.items())))
    env = child_env(root)
    runs = {}
    for flags in ((), ("--quiet",)):
        url = f"s3://{BUCKET}/{'quiet' if flags else 'loud'}"
        argv = ["publish", str(bundle), url, "--endpoint-url", aws.endpoint_url, "--part-size", "5", *flags]
        runs[flags] = on_a_terminal("bundler.cli", argv, env)
    return root, env, runs


def test_publish_draws_its_bar_on_a_terminal_unless_quiet(published):
    _, _, runs = published
    (code, loud), (qcode, quiet) = runs[()], runs[("--quiet",)]
    assert code == 0 and qcode == 0, loud + quiet
    assert "\rpublish " in loud and BAR in loud and "4/4 files" in loud and "7.3/7.3 MB |" in loud, loud
    assert BAR not in quiet and "\r" not in quiet.replace("\r\n", "\n"), quiet
    for out in (loud, quiet):
        assert "published 4 file(s), 7.3 MB" in out, out


def test_fetch_draws_its_bar_on_a_terminal_unless_quiet(aws, published):
    root, env, _ = published
    url = f"s3://{BUCKET}/loud"
    common = ["--endpoint-url", aws.endpoint_url, "--state-dir", str(root / "no-state")]
    code, loud = on_a_terminal("installer.cli", ["fetch", url, str(root / "got"), *common], env)
    qcode, quiet = on_a_terminal("installer.cli", ["fetch", url, str(root / "got-quiet"), *common, "--quiet"], env)
    assert code == 0 and qcode == 0, loud + quiet
    assert "\rfetch " in loud and BAR in loud and "4/4 files" in loud and "7.3/7.3 MB |" in loud, loud
    assert BAR not in quiet and "\r" not in quiet.replace("\r\n", "\n"), quiet
    for out in (loud, quiet):
        assert "fetched 3 file(s), 7.3 MB" in out and "next: bosh-install verify" in out, out


def test_verify_draws_its_bar_on_a_terminal_unless_quiet(tmp_path):
    (tmp_path / "alpha").write_bytes(b"alpha" * 1000)
    lock = tmp_path / "bundle.lock"
    write_test_lock(lock, [artifact("alpha", b"alpha" * 1000, (tmp_path / "alpha").as_uri())])
    bundle = tmp_path / "bundle"
    argv = ["build", "--lock", str(lock), "--out", str(bundle), "--cache", str(tmp_path / "cache"), "--quiet"]
    assert bundle_cli.main(argv) == 0
    env = child_env(tmp_path)
    code, loud = on_a_terminal("bundler.cli", ["verify", str(bundle)], env)
    qcode, quiet = on_a_terminal("bundler.cli", ["verify", str(bundle), "--quiet"], env)
    assert code == 0 and qcode == 0, loud + quiet
    assert "\rverify " in loud and "|" in loud and BAR in loud, loud
    assert BAR not in quiet and "|" not in quiet and "\r" not in quiet.replace("\r\n", "\n"), quiet
    for out in (loud, quiet):
        assert f"{bundle}: OK (" in out, out
    # a serial console reports a size of 0x0, where tqdm would draw nothing: the bar is still there
    code, console = on_a_terminal("bundler.cli", ["verify", str(bundle)], env, size=(0, 0))
    assert code == 0 and "\rverify " in console and "|" in console and BAR in console, console
