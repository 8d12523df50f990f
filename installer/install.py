"""The install: the steps of ``installer.steps`` planned and run through ``installer.steprunner``.

``plan`` decides for every step whether it runs and why, changing nothing: a step runs when it is
new, was interrupted, failed, or is done with other inputs; a step the bundle has nothing for is
``n/a``; ``verify`` and ``extract`` run when a later step runs and the extracted payload is not
current.  ``install`` runs the planned steps, journaled, so a run killed at any point resumes at the
interrupted step, and records the whole install as a final ``done`` entry.

Imports the install context, the steps, the journal and the step runner.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from types import ModuleType

from installer.context import InstallContext
from installer.journal import Journal
from installer.steprunner import Planned, Step, StepRunner, decide, not_applicable
from installer.steps import PREREQUISITES, STEPS


def _step(ctx: InstallContext, module: ModuleType) -> Step:
    return Step(module.NAME, module.inputs(ctx), partial(module.run, ctx))


def plan(ctx: InstallContext, journal: Journal) -> list[Planned]:
    later: list[Planned] = []
    for name, module in STEPS.items():
        if name in PREREQUISITES:
            continue
        if not module.applies(ctx):
            if not getattr(module, "OPTIONAL", False):  # a bundle without install.sh keeps no installer: not shown
                later.append(not_applicable(name, "nothing of this kind in the bundle"))
        else:
            later.append(decide(journal, _step(ctx, module)))
    any_later = any(p.run for p in later)
    extract = decide(journal, _step(ctx, STEPS["extract"]))
    current = extract.status == "done" and STEPS["extract"].present(ctx)
    # a bundle whose artifacts differ (a new stemcell, say) is extracted even when no step consumes them
    upgrade = extract.status == "changed"
    run_pre = upgrade or (any_later and not current)
    pre: list[Planned] = []
    for name in PREREQUISITES:
        planned = decide(journal, _step(ctx, STEPS[name]))
        if upgrade:
            reason = "the bundle's artifacts changed; verifying and extracting what changed"
        elif run_pre:
            reason = (
                planned.reason if planned.status != "done" else "the extracted payload is missing; extracting again"
            )
        elif not any_later:
            reason = "nothing later to do"
        else:
            reason = "the extracted payload is current"
        pre.append(replace(planned, run=run_pre, reason=reason))
    return pre + later


def install(ctx: InstallContext, journal: Journal, steps: list[Planned]) -> dict[str, dict]:
    """Run the steps marked to run; returns the facts of each."""
    runner = StepRunner(
        journal,
        on_start=lambda p: ctx.say(f"{p.name}: starting ({p.reason})"),
        on_done=lambda p: ctx.say(f"{p.name}: done"),
    )
    results = runner.run(steps)
    summary = {"steps": [p.name for p in steps if p.status != "n/a"], "spec": ctx.lock.spec_name}
    done = Step("done", [[p.name, p.inputs] for p in steps], lambda: summary)
    StepRunner(journal).run([decide(journal, done)])
    return results
