"""The one redactor: secrets out of texts and out of log records."""

import logging

from installer.redact import Redactor, guard_logging, unguard_logging


def test_scrub_replaces_longest_first_and_ignores_short_values():
    r = Redactor(["abc", "secret", "secret-longer"])
    assert r.scrub("x secret-longer secret abc") == "x <redacted> <redacted> abc"


def test_guarded_logging_redacts_records_and_unguard_detaches():
    redactor = Redactor()
    redactor.add("hunter2-secret")
    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        attached = guard_logging(redactor, quiet=("botocore",))
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "password=%s", ("hunter2-secret",), None)
        assert handler.filter(record) and record.getMessage() == "password=<redacted>"
        assert logging.getLogger("botocore").level >= logging.INFO
        unguard_logging(attached)
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "password=%s", ("hunter2-secret",), None)
        assert handler.filter(record) and record.getMessage() == "password=hunter2-secret"
    finally:
        root.removeHandler(handler)
