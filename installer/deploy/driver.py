"""Deploying MicroBOSH (bosh-init) and BOSH (bosh v1 CLI): the step lists run and reported.

``Deployer.deploy("microbosh"|"bosh")`` writes the manifest, then plans and runs the kind's journaled
steps (``installer.deploy.microbosh``, ``installer.deploy.bosh``) through ``installer.steprunner``,
in the journal the install steps use: a step done with the same inputs is skipped, a failed or
interrupted one runs again, so re-running the command resumes where it stopped.  With
``plan_only`` nothing is written or run.  ``Deployer.destroy`` deletes MicroBOSH (refused while the
BOSH deployment is recorded) or the BOSH deployment, says what it deleted, and forgets the kind's
steps once something was deleted (``installer.deploy.microbosh``: nothing is, without a state file).

Every secret of the prepared deploy (``installer.deploy.prepared``) is registered with the runner's
redactor first, so logs, plans, the journal and errors never show a password.  Where the files go:
``installer.state``.

Imports the deploy's parts, the journal, the step runner and the process runner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bundler.core.errors import InputError
from installer.deploy import bosh, microbosh
from installer.deploy.boshcli import BoshCli
from installer.deploy.boshinit import BoshInit
from installer.deploy.prepared import Prepared
from installer.journal import Journal
from installer.process import Runner
from installer.steprunner import Planned, StepRunner, plan

log = logging.getLogger(__name__)


@dataclass
class Tools:
    bosh_init: str = "bosh-init"
    bosh: str = "bosh"


@dataclass
class StepReport:
    name: str
    status: str  # done (skipped) | ran | would run (new|interrupted|failed|changed)
    describe: str
    command: str = ""


class Deployer:
    """The journaled steps of ``deploy``/``destroy`` for one prepared deploy and its state dir."""

    def __init__(self, prepared: Prepared, runner: Runner, tools: Tools, progress: Callable[[str], None] | None = None):
        self.p = prepared
        self.runner = runner
        self.journal = Journal.open(prepared.state.path)
        runner.redact(*prepared.secret_values())
        self.bosh_init = BoshInit(tools.bosh_init, prepared.state, runner, progress)
        self.bosh = BoshCli(tools.bosh, prepared.state.bosh_config, runner, progress)

    def deploy(self, kind: str, plan_only: bool = False) -> list[StepReport]:
        if not plan_only:
            self.p.write_manifest(kind)
        if kind == "microbosh":
            steps = microbosh.steps(self.p, self.bosh_init, self.bosh)
        else:
            steps = bosh.steps(self.p, self.bosh)
        planned = plan(self.journal, steps)
        if not plan_only:
            StepRunner(
                self.journal,
                scrub=self.runner.redactor.scrub,
                name_failures=True,
                on_start=lambda p: log.info("step %s: %s", p.name, p.step.describe),
            ).run(planned)
        return [self.report(p, plan_only) for p in planned]

    def report(self, p: Planned, plan_only: bool) -> StepReport:
        shown = self.runner.shown(p.step.argv) if p.step.argv else ""
        if not p.run:
            status = "done"
        elif plan_only:
            status = f"would run ({p.status})"
        else:
            status = "ran"
        return StepReport(p.name, status, p.step.describe, shown)

    def destroy(self, kind: str) -> str:
        """Delete MicroBOSH or the BOSH deployment; returns what was done, in one line.  The kind's
        steps are forgotten once something was deleted; when nothing was (no bosh-init state file),
        the journal is left as it is."""
        if kind == "microbosh" and self.journal.steps.get("bosh.deploy") is not None:
            raise InputError(
                "BOSH is still deployed by this MicroBOSH; its VMs would be left running: "
                "run 'bosh-install destroy bosh' first"
            )
        if kind == "microbosh":
            done = microbosh.destroy(self.p, self.bosh_init, self.journal.steps.get("microbosh.bosh-init"))
            report = done.describe()
            if done.deleted_nothing:
                return report  # the journal is still true
        else:
            bosh.destroy(self.p, self.bosh)
            report = f"deleted the deployment {self.p.site.name!r}"
        for name in [n for n in self.journal.steps if n.startswith(f"{kind}.")]:
            self.journal.forget(name)
        return report
