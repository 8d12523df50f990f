"""Running external commands for the installer: logged, redacted, and explained on failure.

``Runner.run`` starts a command, copies its output line by line into a log file (timestamped) and
raises ``StepError`` on a non-zero exit with the command, the exit code, the log's path and its last
lines.  Secrets registered with ``Runner.redact`` go into the runner's ``Redactor``
(``installer.redact``) and are replaced by ``<redacted>`` everywhere the runner writes or reports:
log lines, the command shown, error messages.  ``--root DIR`` installs run commands through
``chroot``; ``dry_run`` only logs what would run.  Log directories are 0700 and logs 0600 from
their creation (``private_dir``, ``open_log``); registering secrets scrubs the logs already there.

Imports the project's error types and the redactor.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bundler.core.errors import BundleError
from installer.redact import Redactor

log = logging.getLogger(__name__)
TAIL_LINES = 25


class StepError(BundleError):
    """A command or step that failed; the message says which, why, and where the full log is."""


@dataclass
class Runner:
    log_dir: Path
    root: Path | None = None  # run inside this chroot
    dry_run: bool = False
    redactor: Redactor = field(default_factory=Redactor)

    def redact(self, *values: str) -> None:
        """Register secrets, and scrub them from the logs already there: a run killed before it could
        redact a tool's own log (bosh-init's) leaves it for the next start to clean."""
        self.redactor.add(*values)
        if self.log_dir.is_dir():
            for path in sorted(self.log_dir.iterdir()):
                if path.is_file() and not path.is_symlink():
                    scrub_file(path, self.redactor.scrub)

    def shown(self, argv: Sequence[str]) -> str:
        return self.redactor.scrub(" ".join(argv))

    def run(
        self,
        argv: Sequence[str],
        *,
        log_name: str,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        on_line: Callable[[str], None] | None = None,
        check: bool = True,
        stdin_text: str | None = None,
    ) -> int:
        """Run ``argv`` (inside ``root`` when set), teeing output to ``log_dir/log_name``.

        ``stdin_text`` is written to the command's standard input (then closed): the way to hand it a
        secret, which on the command line would be readable by every user in ``/proc/PID/cmdline``."""
        argv = [str(a) for a in argv]
        if self.root is not None:
            inner_cwd = str(cwd) if cwd is not None else "/"
            argv = ["chroot", str(self.root), "sh", "-c", 'cd "$0" && exec "$@"', inner_cwd, *argv]
            cwd = None
        private_dir(self.log_dir)
        log_path = self.log_dir / log_name
        if self.dry_run:
            log.info("would run: %s", self.shown(argv))
            return 0
        log.info("running: %s (log: %s)", self.shown(argv), log_path)
        full_env = dict(os.environ)
        full_env.update(env or {})
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        with open_log(log_path) as out:
            out.write(f"{_stamp()} $ {self.shown(argv)}\n")
            proc = _start(argv, cwd, full_env, stdin_text)
            assert proc.stdout is not None
            for line in proc.stdout:
                clean = self.redactor.scrub(line.rstrip("\n"))
                out.write(f"{_stamp()} {clean}\n")
                tail.append(clean)
                if on_line is not None:
                    on_line(clean)
            code = proc.wait()
            out.write(f"{_stamp()} exit {code}\n")
        if code != 0 and check:
            last = "\n    ".join(tail)
            raise StepError(
                f"{self.shown(argv[:6])}{' …' if len(argv) > 6 else ''} failed with exit code {code}; "
                f"full log: {log_path}\n  last lines:\n    {last}"
            )
        return code


def _start(argv: list[str], cwd: Path | str | None, env: dict[str, str], stdin_text: str | None) -> subprocess.Popen:
    """Start ``argv`` with stdout and stderr on one pipe; ``stdin_text`` written to its stdin, then closed."""
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL if stdin_text is None else subprocess.PIPE,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        raise StepError(f"cannot run {argv[0]}: {exc.strerror}") from None
    if proc.stdin is not None:
        try:
            proc.stdin.write(stdin_text or "")
            proc.stdin.close()
        except BrokenPipeError:
            pass
    return proc


def private_dir(path: Path) -> Path:
    """``path`` (and missing parents) as a directory only its owner reads: 0700 from creation."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if stat.S_IMODE(path.stat().st_mode) != 0o700 and path.stat().st_uid == os.geteuid():
        os.chmod(path, 0o700)
    return path


def open_log(path: Path) -> TextIO:
    """Open a log for appending, 0600 from its creation (never a moment readable by others), and not
    through a symlink someone planted in its place."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        why = "a symlink: not writing through it" if exc.errno == errno.ELOOP else exc.strerror
        raise StepError(f"log {path}: {why}; remove it") from None
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


def scrub_file(path: Path, scrub: Callable[[str], str]) -> None:
    """Redact a log another program wrote, in place (atomically, 0600)."""
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    clean = scrub(text)
    if clean != text:
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        with open_log(tmp) as fh:
            fh.write(clean)
        os.replace(tmp, path)


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
