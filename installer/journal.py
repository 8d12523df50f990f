"""The installer's journal: which steps are done, with which inputs, so a killed run resumes.

The journal is one JSON file (``STATE_DIR/journal.json``, ``installer.state``), rewritten atomically
(write to a temp file, fsync, rename) after every change, so a SIGKILL leaves either the old or the
new version.  Each step records its state (``running``, ``done``, ``failed``), the sha256 of its
inputs (``digest`` of what it consumed: lock entries, rendered manifests, options), a few facts it
produced and, when it failed, the error.  ``Journal.status`` says what a step's record means for a
new run (``new``, ``interrupted``, ``failed``, ``changed``, ``done``); ``installer.steprunner``
acts on it.  Install steps and deploy steps (``microbosh.*``, ``bosh.*``) share the one journal.

Imports the state directory's layout and the error types.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundler.core.errors import InputError
from installer.state import StateDir

JOURNAL_FORMAT = 1


def digest(value: Any) -> str:
    """A stable sha256 of a JSON-able value (sorted keys), for step inputs."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class StepRecord:
    state: str  # running | done | failed
    inputs: str  # digest of the step's inputs
    started: float
    finished: float | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class Journal:
    """Load with ``Journal.open(state_dir)`` (or ``Journal.read``); every mutation is saved at once."""

    def __init__(self, path: Path, steps: dict[str, StepRecord]):
        self.path = path
        self.steps = steps

    @classmethod
    def open(cls, state_dir: Path) -> Journal:
        """The journal of ``state_dir``, which is created if missing."""
        Path(state_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
        return cls.read(state_dir)

    @classmethod
    def read(cls, state_dir: Path) -> Journal:
        """The journal of ``state_dir``; empty, and not written until a step changes, if there is none."""
        path = StateDir(state_dir).journal
        if not path.exists():
            return cls(path, {})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != JOURNAL_FORMAT:
                raise ValueError(f"format {data.get('format')!r}")
            steps = {name: StepRecord(**rec) for name, rec in data["steps"].items()}
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}: unreadable journal ({exc}); move it aside to start afresh") from None
        return cls(path, steps)

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "format": JOURNAL_FORMAT,
            "steps": {name: rec.__dict__ for name, rec in sorted(self.steps.items())},
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def status(self, step: str, inputs: str) -> str:
        """``done`` (skip), ``changed`` (done with other inputs), ``interrupted``, ``failed`` or ``new``."""
        rec = self.steps.get(step)
        if rec is None:
            return "new"
        if rec.state == "done":
            return "done" if rec.inputs == inputs else "changed"
        return "interrupted" if rec.state == "running" else "failed"

    def is_done(self, step: str, inputs: str) -> bool:
        return self.status(step, inputs) == "done"

    def start(self, step: str, inputs: str) -> None:
        self.steps[step] = StepRecord("running", inputs, time.time())
        self.save()

    def finish(self, step: str, facts: Mapping[str, Any] | None = None) -> None:
        rec = self.steps[step]
        rec.state, rec.finished, rec.error = "done", time.time(), None
        rec.facts = dict(facts or {})
        self.save()

    def fail(self, step: str, error: str) -> None:
        rec = self.steps[step]
        rec.state, rec.finished, rec.error = "failed", time.time(), error
        self.save()

    def facts(self, step: str) -> dict[str, Any]:
        rec = self.steps.get(step)
        return dict(rec.facts) if rec else {}

    def forget(self, step: str) -> None:
        if self.steps.pop(step, None) is not None:
            self.save()
