"""Running the install steps in order against the journal: plan what must run, then run it.

``plan`` decides for every step whether it runs and why, changing nothing: a step runs when it is
new, was interrupted, failed, or is done with other inputs; ``verify`` and ``extract`` run when a
later step runs and the extracted payload is not current.  ``install`` runs the planned steps, each
marked ``running`` in the journal before it starts and ``done`` (with facts) after, so a run killed
at any point resumes at the interrupted step.  A final ``done`` entry records the whole install.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bundler.core.errors import BundleError
from installer.context import InstallContext
from installer.journal import Journal, digest
from installer.steps import PREREQUISITES, STEPS

log = logging.getLogger(__name__)
REASONS = {
    "new": "not run yet",
    "interrupted": "was interrupted; runs again",
    "failed": "failed last time; runs again",
    "changed": "done, but its inputs changed",
    "done": "done with the same inputs",
}


@dataclass(frozen=True)
class Planned:
    step: str
    run: bool
    status: str  # journal status: new | interrupted | failed | changed | done | n/a
    reason: str
    inputs: str  # digest


def plan(ctx: InstallContext, journal: Journal) -> list[Planned]:
    later: list[Planned] = []
    for name in STEPS:
        if name in PREREQUISITES:
            continue
        module = STEPS[name]
        if not module.applies(ctx):
            later.append(Planned(name, False, "n/a", "nothing of this kind in the bundle", ""))
            continue
        inputs = digest(module.inputs(ctx))
        status = journal.status(name, inputs)
        later.append(Planned(name, status != "done", status, REASONS[status], inputs))
    any_later = any(p.run for p in later)
    extract = STEPS["extract"]
    pre: list[Planned] = []
    extract_inputs = digest(extract.inputs(ctx))
    extract_status = journal.status("extract", extract_inputs)
    payload_current = extract_status == "done" and extract.present(ctx)
    run_pre = any_later and not payload_current
    for name in PREREQUISITES:
        inputs = digest(STEPS[name].inputs(ctx))
        status = journal.status(name, inputs)
        if run_pre:
            reason = REASONS[status] if status != "done" else "the extracted payload is missing; extracting again"
        elif not any_later:
            reason = "nothing later to do"
        else:
            reason = "the extracted payload is current"
        pre.append(Planned(name, run_pre, status, reason, inputs))
    return pre + later


def install(ctx: InstallContext, journal: Journal, steps: list[Planned]) -> dict[str, dict]:
    """Run the steps marked to run; returns the facts of each."""
    results: dict[str, dict] = {}
    for p in steps:
        if not p.run:
            continue
        module = STEPS[p.step]
        ctx.say(f"{p.step}: starting ({p.reason})")
        journal.start(p.step, p.inputs)
        try:
            facts = module.run(ctx)
        except BundleError as exc:
            journal.fail(p.step, str(exc).splitlines()[0])
            raise
        journal.finish(p.step, facts)
        results[p.step] = facts
        ctx.say(f"{p.step}: done")
    summary = {"steps": [p.step for p in steps if p.status != "n/a"], "spec": ctx.lock.spec_name}
    done_inputs = digest([[p.step, p.inputs] for p in steps])
    if not journal.is_done("done", done_inputs):
        journal.start("done", done_inputs)
        journal.finish("done", summary)
    return results
