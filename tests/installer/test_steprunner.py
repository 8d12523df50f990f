"""The one step runner: planning from the journal, running, recording failures (install and deploy styles)."""

import pytest

from bundler.core.errors import InputError
from installer.journal import Journal
from installer.process import StepError
from installer.steprunner import Step, StepRunner, plan


def _boom():
    raise InputError("bad hunter2-secret\nsecond line")


def test_plan_then_run_records_facts_and_a_rerun_skips(tmp_path):
    journal = Journal.open(tmp_path)
    steps = [Step("a", {"x": 1}, lambda: {"made": 1}), Step("b", [2], lambda: None)]
    assert [(p.name, p.run, p.status) for p in plan(journal, steps)] == [("a", True, "new"), ("b", True, "new")]
    assert StepRunner(journal).run(plan(journal, steps)) == {"a": {"made": 1}, "b": {}}
    again = Journal.open(tmp_path)
    assert [(p.run, p.status) for p in plan(again, steps)] == [(False, "done"), (False, "done")]
    changed = plan(again, [Step("a", {"x": 2})])[0]
    assert (changed.run, changed.status, changed.reason) == (True, "changed", "done, but its inputs changed")


def test_install_style_failure_keeps_the_error_and_records_its_first_line(tmp_path):
    journal = Journal.open(tmp_path)
    with pytest.raises(InputError):
        StepRunner(journal).run(plan(journal, [Step("a", 1, _boom)]))
    assert Journal.open(tmp_path).steps["a"].error == "bad hunter2-secret"


def test_deploy_style_failure_names_the_step_redacted(tmp_path):
    journal = Journal.open(tmp_path)
    runner = StepRunner(journal, scrub=lambda t: t.replace("hunter2-secret", "<redacted>"), name_failures=True)
    with pytest.raises(StepError) as err:
        runner.run(plan(journal, [Step("a", 1, _boom)]))
    assert str(err.value) == "step a failed: bad <redacted>\nsecond line"
    rec = Journal.open(tmp_path).steps["a"]
    assert rec.state == "failed" and "hunter2-secret" not in rec.error
