"""The bosh v1 CLI (bosh_cli 1.3147) as the deploy drives it: its command lines and its output.

``BoshCli`` builds every command with ``-n`` (non-interactive) and ``-c STATE/bosh_config`` (not
``~/.bosh_config``; ``login`` gets the password on its standard input, never on a command line),
runs it through the ``Runner`` (so secrets are redacted) and captures what it prints.
``parse_table`` reads the CLI's ``+---+`` tables, ``versions_in`` the versions a ``bosh
releases``/``bosh stemcells`` table lists for a name, ``task_number`` the director task a command
started.

Imports the process runner.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from installer.process import Runner

_TASK_RE = re.compile(r"Director task (\d+)")
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class BoshCli:
    executable: str
    config: Path
    runner: Runner
    progress: Callable[[str], None] | None = None  # gets the (redacted) output of long commands

    def argv(self, *args: str) -> tuple[str, ...]:
        return (self.executable, "-n", "-c", str(self.config), *args)

    def login_argv(self) -> tuple[str, ...]:
        """``bosh login admin`` without ``-n``: the CLI then asks for the password, which it reads from
        standard input; the password never appears on a command line (``/proc/PID/cmdline``)."""
        return (self.executable, "-c", str(self.config), "login", "admin")

    def login(self, password: str, log_name: str = "bosh-login.log") -> None:
        self.runner.run(self.login_argv(), log_name=log_name, stdin_text=password + "\n")

    def run(self, argv: Sequence[str], log_name: str, show: bool = False) -> None:
        self.runner.run(argv, log_name=log_name, on_line=self.progress if show else None)

    def capture(self, argv: Sequence[str], log_name: str, check: bool = True, show: bool = False) -> tuple[int, str]:
        """Run ``argv``; its exit code and what it printed."""
        lines: list[str] = []

        def sink(line: str) -> None:
            lines.append(line)
            if show and self.progress is not None:
                self.progress(line)

        code = self.runner.run(argv, log_name=log_name, on_line=sink, check=check)
        return code, "\n".join(lines)


def parse_table(text: str) -> list[dict[str, str]]:
    """Rows of the bosh v1 CLI's ``+---+`` tables, keyed by lower-case header."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and line.endswith("|"):
            rows.append([c.strip() for c in line[1:-1].split("|")])
    if not rows:
        return []
    header = [h.lower() for h in rows[0]]
    return [dict(zip(header, r, strict=True)) for r in rows[1:] if len(r) == len(header)]


def versions_in(rows: list[dict[str, str]], name: str) -> set[str]:
    """Versions of ``name`` in a ``bosh releases``/``bosh stemcells`` table.

    The v1 CLI prints one row per version and leaves the name empty on the rows after the first;
    a trailing ``*`` marks what is in use."""
    out: set[str] = set()
    current = ""
    for row in rows:
        current = row.get("name") or current
        if current == name:
            for v in re.split(r"[,\s]+", row.get("versions", row.get("version", ""))):
                if v:
                    out.add(v.rstrip("*"))
    return out


def task_number(text: str) -> str | None:
    """The last director task a command's output names."""
    found = _TASK_RE.findall(text)
    return found[-1] if found else None


def uuids_in(text: str) -> list[str]:
    """The UUIDs ``bosh status --uuid`` printed."""
    return _UUID_RE.findall(text)
