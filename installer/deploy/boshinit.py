"""bosh-init (0.0.81) as the deploy drives it, with its state file kept safe.

bosh-init reads and writes ``microbosh-state.json`` beside its manifest (``STATE/deploy``); without
it MicroBOSH can be neither updated nor deleted.  ``BoshInit.run`` therefore restores the state
file from the copy in the state directory when it is gone, runs ``bosh-init deploy|delete`` beside
the manifest, and, whatever happens, keeps a copy again (the previous copy becomes ``.prev``) and
redacts bosh-init's own log (``BOSH_INIT_LOG_PATH``: mbus URLs carry a password) in place.

Imports the process runner and the state directory's layout.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from installer.process import Runner
from installer.state import StateDir

log = logging.getLogger(__name__)
LOG_NAME = "bosh-init.log"


@dataclass
class BoshInit:
    executable: str
    state: StateDir
    runner: Runner
    progress: Callable[[str], None] | None = None  # gets every (redacted) line bosh-init prints

    def argv(self, command: str) -> tuple[str, ...]:
        """``bosh-init deploy|delete STATE/deploy/microbosh.yml``."""
        return (self.executable, command, str(self.state.manifest("microbosh")))

    def env(self) -> dict[str, str]:
        self.state.logs.mkdir(parents=True, exist_ok=True)
        return {
            "BOSH_INIT_LOG_PATH": str(self.state.logs / LOG_NAME),
            "BOSH_INIT_LOG_LEVEL": os.environ.get("BOSH_INIT_LOG_LEVEL", "debug"),
        }

    def run(self, command: str, log_name: str) -> None:
        """Run ``bosh-init COMMAND`` beside the manifest with the state file restored before and kept
        after, whatever happens, and its own log redacted."""
        restore_state(self.state)
        try:
            self.runner.run(
                self.argv(command), log_name=log_name, cwd=self.state.manifests, env=self.env(), on_line=self.progress
            )
        finally:
            keep_state(self.state)
            scrub_file(self.state.logs / LOG_NAME, self.runner.redactor.scrub)


def keep_state(state: StateDir) -> None:
    """Copy bosh-init's state file into the state dir (the previous copy becomes ``.prev``)."""
    src = state.bosh_init_state()
    if not src.exists():
        return
    dst = state.saved_state()
    if dst.exists():
        shutil.copy2(dst, dst.with_name(dst.name + ".prev"))
    shutil.copy2(src, dst)


def restore_state(state: StateDir) -> None:
    """Put the kept state back beside the manifest if bosh-init's own copy is gone."""
    src, dst = state.saved_state(), state.bosh_init_state()
    if src.exists() and not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        log.warning("restored %s from %s", dst, src)


def scrub_file(path: Path, scrub: Callable[[str], str]) -> None:
    """Redact a log another program wrote, in place (atomically)."""
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    clean = scrub(text)
    if clean != text:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(clean, encoding="utf-8")
        os.replace(tmp, path)
