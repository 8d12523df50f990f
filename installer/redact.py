"""Secret redaction for the installer: the one place that replaces secret values by ``<redacted>``.

A ``Redactor`` collects secret values (``add``; values shorter than four characters are ignored,
they would blank out ordinary text) and ``scrub`` replaces every one of them, longest first, in a
text.  ``RedactingFilter`` applies a redactor to log records; ``guard_logging`` attaches one to the
root logger's handlers (optionally holding chatty loggers such as botocore at INFO, whose DEBUG
output carries request headers) and ``unguard_logging`` detaches it again.

The process runner (``installer.process.Runner``), the deploy driver and the AWS session use it.
Imports only the standard library.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

REDACTED = "<redacted>"
MIN_SECRET_LENGTH = 4


class Redactor:
    """A set of secret values and the function that removes them from a text."""

    def __init__(self, values: Iterable[str] = ()):
        self.secrets: set[str] = set()
        self.add(*values)

    def add(self, *values: str) -> None:
        self.secrets.update(v for v in values if v and len(v) >= MIN_SECRET_LENGTH)

    def scrub(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text


class RedactingFilter(logging.Filter):
    """Scrub every log record passing through a handler with a ``Redactor``."""

    def __init__(self, redactor: Redactor):
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if self.redactor.secrets:
            text = record.getMessage()
            scrubbed = self.redactor.scrub(text)
            if scrubbed != text:
                record.msg, record.args = scrubbed, None
        return True


Attached = list[tuple[logging.Handler, RedactingFilter]]


def guard_logging(redactor: Redactor, quiet: Sequence[str] = ()) -> Attached:
    """Attach a ``RedactingFilter`` to the root logger's handlers; returns what to detach afterwards.

    Loggers named in ``quiet`` are held at INFO or above (their DEBUG output would carry secrets)."""
    root = logging.getLogger()
    for name in quiet:
        logging.getLogger(name).setLevel(max(root.level, logging.INFO))
    flt = RedactingFilter(redactor)
    attached: Attached = []
    for handler in root.handlers:
        handler.addFilter(flt)
        attached.append((handler, flt))
    return attached


def unguard_logging(attached: Attached) -> None:
    for handler, flt in attached:
        handler.removeFilter(flt)
