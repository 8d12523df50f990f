"""Journaled steps: the one runner both the install steps and the deploy steps go through.

A ``Step`` has a name, its inputs (any JSON-able value: their ``digest`` decides whether a done step
is still current) and ``run() -> facts``.  ``plan`` asks the journal about each step and changes
nothing: a step runs when it is ``new``, was ``interrupted``, ``failed``, or is done with other
inputs (``changed``); a step ``done`` with the same inputs is skipped.  A caller may decide
otherwise for a step (the install's prerequisites run only when a later step runs).
``StepRunner.run`` runs the planned steps in order, each marked ``running`` in the journal before it
starts and ``done`` with its facts after, or ``failed`` with its (redacted) error, so a run killed at
any point resumes at the interrupted step (every step is idempotent).

Imports the journal and the process runner's and the project's error types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bundler.core.errors import BundleError
from installer.journal import Journal, digest
from installer.process import StepError

REASONS = {
    "new": "not run yet",
    "interrupted": "was interrupted; runs again",
    "failed": "failed last time; runs again",
    "changed": "done, but its inputs changed",
    "done": "done with the same inputs",
}
NOT_APPLICABLE = "n/a"


def _nothing() -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Step:
    """One journaled step; ``describe`` and ``argv`` (the command it runs, if one) are for plans."""

    name: str
    inputs: Any
    run: Callable[[], Mapping[str, Any] | None] = _nothing
    describe: str = ""
    argv: tuple[str, ...] = ()


@dataclass(frozen=True)
class Planned:
    """What a run will do with one step, and why."""

    step: Step
    run: bool
    status: str  # journal status: new | interrupted | failed | changed | done | n/a
    reason: str
    inputs: str  # digest

    @property
    def name(self) -> str:
        return self.step.name


def decide(journal: Journal, step: Step) -> Planned:
    """Plan one step: it runs unless done with the same inputs, for the journal's reason."""
    inputs = digest(step.inputs)
    status = journal.status(step.name, inputs)
    return Planned(step, status != "done", status, REASONS[status], inputs)


def not_applicable(name: str, reason: str) -> Planned:
    """A step this run has nothing for (shown in the plan, never run, not journaled)."""
    return Planned(Step(name, None), False, NOT_APPLICABLE, reason, "")


def plan(journal: Journal, steps: Iterable[Step]) -> list[Planned]:
    return [decide(journal, step) for step in steps]


@dataclass
class StepRunner:
    """Runs planned steps against ``journal``.

    ``scrub`` redacts error messages before they reach the journal.  With ``name_failures`` (the
    deploy) a failure is recorded whole and raised again as ``StepError("step NAME failed: …")``;
    without (the install) its first line is recorded and the error itself raised again.
    ``on_start``/``on_done`` report progress."""

    journal: Journal
    scrub: Callable[[str], str] = str
    name_failures: bool = False
    on_start: Callable[[Planned], None] = field(default=lambda planned: None)
    on_done: Callable[[Planned], None] = field(default=lambda planned: None)

    def run(self, planned: Sequence[Planned]) -> dict[str, dict[str, Any]]:
        """Run the steps marked to run; returns the facts of each."""
        results: dict[str, dict[str, Any]] = {}
        for p in planned:
            if p.run:
                results[p.name] = self.run_one(p)
        return results

    def run_one(self, p: Planned) -> dict[str, Any]:
        self.on_start(p)
        self.journal.start(p.name, p.inputs)
        try:
            facts = dict(p.step.run() or {})
        except BundleError as exc:
            message = self.scrub(str(exc))
            if not self.name_failures:
                self.journal.fail(p.name, message.splitlines()[0] if message else message)
                raise
            self.journal.fail(p.name, message)
            raise StepError(f"step {p.name} failed: {message}") from None
        self.journal.finish(p.name, facts)
        self.on_done(p)
        return facts
