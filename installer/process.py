"""Running external commands for the installer: logged, redacted, and explained on failure.

``Runner.run`` starts a command, copies its output line by line into a log file (timestamped) and
raises ``StepError`` on a non-zero exit with the command, the exit code, the log's path and its last
lines.  Secrets registered with ``Runner.redact`` go into the runner's ``Redactor``
(``installer.redact``) and are replaced by ``<redacted>`` everywhere the runner writes or reports:
log lines, the command shown, error messages.  ``--root DIR`` installs run commands through
``chroot``; ``dry_run`` only logs what would run.

Imports the project's error types and the redactor.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
        self.redactor.add(*values)

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
    ) -> int:
        """Run ``argv`` (inside ``root`` when set), teeing output to ``log_dir/log_name``."""
        argv = [str(a) for a in argv]
        if self.root is not None:
            inner_cwd = str(cwd) if cwd is not None else "/"
            argv = ["chroot", str(self.root), "sh", "-c", 'cd "$0" && exec "$@"', inner_cwd, *argv]
            cwd = None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / log_name
        if self.dry_run:
            log.info("would run: %s", self.shown(argv))
            return 0
        log.info("running: %s (log: %s)", self.shown(argv), log_path)
        full_env = dict(os.environ)
        full_env.update(env or {})
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        with open(log_path, "a", encoding="utf-8") as out:
            out.write(f"{_stamp()} $ {self.shown(argv)}\n")
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env=full_env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    text=True,
                    errors="replace",
                )
            except OSError as exc:
                raise StepError(f"cannot run {argv[0]}: {exc.strerror}") from None
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


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
