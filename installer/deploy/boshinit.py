"""bosh-init (0.0.81) as the deploy drives it, with its state file kept safe and followed.

bosh-init reads and writes ``microbosh-state.json`` beside its manifest (``STATE/deploy``); without
it MicroBOSH can be neither updated nor deleted.  ``BoshInit.run`` therefore restores the state
file from the copy in the state directory when it is gone, runs ``bosh-init deploy|delete`` beside
the manifest, and, whatever happens, makes the copy follow what bosh-init did: a state file it
wrote is copied (the previous copy becomes ``.prev``); one it deleted (a successful ``delete``) is
no longer kept either (the copy becomes ``.prev``, which is never restored), so a later deploy
cannot bring back the ids of a deleted VM, disk and stemcell.  bosh-init's own log
(``BOSH_INIT_LOG_PATH``: mbus URLs carry a password) is redacted in place.

A failure names bosh-init's stage (its last ``... Failed`` line) and its error before the log's
tail.  ``Deployed`` is what a state file records as created (what ``bosh-init delete`` deletes).

Imports the process runner and the state directory's layout.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from installer.process import Runner, StepError, scrub_file
from installer.state import StateDir

log = logging.getLogger(__name__)
LOG_NAME = "bosh-init.log"
SEEN_LINES = 400  # of bosh-init's output, kept to name the stage that failed
_FAILED_STEP = re.compile(r"^\s*(?P<stage>\S.*?)\.\.\. Failed\b")  # "  Uploading stemcell '…'... Failed (…)"
_FAILED_STAGE = re.compile(r"^Failed (?P<stage>.+?) \(\d+:\d\d:\d\d\)$")  # "Failed deleting deployment (…)"


@dataclass(frozen=True)
class Deployed:
    """What bosh-init's state file records as created: the VM, disks and stemcells (cloud ids)."""

    vm: str = ""
    disks: tuple[str, ...] = ()
    stemcells: tuple[str, ...] = ()

    @property
    def nothing(self) -> bool:
        return not (self.vm or self.disks or self.stemcells)

    def describe(self) -> str:
        """``the VM i-1, the disk vol-1 and the stemcell ami-1 light``."""
        parts = [f"the VM {self.vm}"] if self.vm else []
        for noun, cids in (("disk", self.disks), ("stemcell", self.stemcells)):
            if cids:
                parts.append(f"the {noun}{'s' * (len(cids) > 1)} {', '.join(cids)}")
        return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)


def read_deployed(path: Path) -> Deployed | None:
    """What the bosh-init state file at ``path`` records, None when there is none."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StepError(f"{path}: not a bosh-init state file ({exc}); restore it from {path.name}.prev") from None
    doc = doc if isinstance(doc, dict) else {}

    def cids(key: str) -> tuple[str, ...]:
        return tuple(str(r.get("cid")) for r in doc.get(key) or [] if isinstance(r, dict) and r.get("cid"))

    return Deployed(str(doc.get("current_vm_cid") or ""), cids("disks"), cids("stemcells"))


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

    def deployed(self) -> Deployed | None:
        """What bosh-init's state (restored first if lost) records, None when it has no state file."""
        restore_state(self.state)
        return read_deployed(self.state.bosh_init_state())

    def run(self, command: str, log_name: str) -> None:
        """Run ``bosh-init COMMAND`` beside the manifest with the state file restored before and
        followed after, whatever happens, and its own log redacted."""
        restore_state(self.state)
        seen: deque[str] = deque(maxlen=SEEN_LINES)

        def on_line(line: str) -> None:
            seen.append(line)
            if self.progress is not None:
                self.progress(line)

        try:
            self.runner.run(
                self.argv(command), log_name=log_name, cwd=self.state.manifests, env=self.env(), on_line=on_line
            )
        except StepError as exc:
            summary = failure_summary(command, seen)
            raise StepError(f"{summary}\n{exc}" if summary else str(exc)) from None
        finally:
            keep_state(self.state)
            scrub_file(self.state.logs / LOG_NAME, self.runner.redactor.scrub)


def failure_summary(command: str, lines: Iterable[str]) -> str:
    """``bosh-init deploy failed at "STAGE": ERROR`` from bosh-init's output (its last ``... Failed``
    step, else its last ``Failed STAGE`` line, and its ``Command 'deploy' failed:`` block); empty when
    it printed none of them."""
    lines = list(lines)
    stages = [m.group("stage") for m in map(_FAILED_STEP.match, lines) if m]
    stages = stages or [m.group("stage") for m in map(_FAILED_STAGE.match, lines) if m]
    stage = f' at "{stages[-1]}"' if stages else ""
    error, block = "", False
    for line in lines:
        if line.startswith(f"Command '{command}' failed:"):
            error, block = "", True
        elif block and line.strip():
            text = line.strip()
            error += (" " if error.endswith(":") else "; " if error else "") + text
        elif block:
            block = False
    if not (stage or error):
        return ""
    return f"bosh-init {command} failed{stage}: {error or 'see its output below'}"


def keep_state(state: StateDir) -> None:
    """Make the kept copy follow bosh-init's state file: copied when it exists, retired when bosh-init
    deleted it (either way the previous copy becomes ``.prev``)."""
    src, dst = state.bosh_init_state(), state.saved_state()
    prev = dst.with_name(dst.name + ".prev")
    if not src.exists():
        if dst.exists():
            os.replace(dst, prev)
            log.info("bosh-init deleted %s: its copy %s is now %s", src, dst, prev)
        return
    if dst.exists():
        shutil.copy2(dst, prev)
    shutil.copy2(src, dst)


def restore_state(state: StateDir) -> None:
    """Put the kept state back beside the manifest if bosh-init's own copy is gone."""
    src, dst = state.saved_state(), state.bosh_init_state()
    if src.exists() and not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        log.warning("restored %s from %s", dst, src)
