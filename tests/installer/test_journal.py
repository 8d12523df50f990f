"""The journal resumes correctly and the runner never lets a secret through."""

import pytest

from installer.journal import Journal, digest
from installer.process import Runner, StepError


def test_journal_statuses_survive_reopening(tmp_path):
    j = Journal.open(tmp_path)
    inputs = digest({"debs": ["a=1"]})
    assert j.status("debs", inputs) == "new"
    j.start("debs", inputs)
    assert Journal.open(tmp_path).status("debs", inputs) == "interrupted"
    j.finish("debs", {"installed": 1})
    again = Journal.open(tmp_path)
    assert again.is_done("debs", inputs)
    assert again.status("debs", digest({"debs": ["a=2"]})) == "changed"
    assert again.facts("debs") == {"installed": 1}


def test_runner_redacts_secrets_in_log_and_error(tmp_path):
    runner = Runner(tmp_path)
    runner.redact("hunter2-secret")
    with pytest.raises(StepError) as err:
        runner.run(["sh", "-c", "echo password=hunter2-secret; exit 3", "hunter2-secret"], log_name="x.log")
    log_text = (tmp_path / "x.log").read_text()
    assert "hunter2-secret" not in log_text and "hunter2-secret" not in str(err.value)
    assert "password=<redacted>" in log_text
    assert "exit code 3" in str(err.value) and "password=<redacted>" in str(err.value)
