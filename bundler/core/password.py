"""The bundle password for ``--encrypt``: from ``BOSH_BUNDLE_PASSWORD`` or a terminal prompt, never argv.

A password on the command line would land in shell history and in ``ps`` output for every user on
the machine; so there is deliberately no ``--password`` option.  ``bundler.core.archive`` reads
the same variable when it opens an encrypted payload.  Imports only ``bundler.core.errors``.
"""

from __future__ import annotations

import getpass
import os
import sys

from bundler.core.errors import InputError

ENV = "BOSH_BUNDLE_PASSWORD"


def read_password(*, confirm: bool) -> str:
    """The password from the environment, else asked on the terminal (twice when ``confirm``)."""
    value = os.environ.get(ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise InputError(f"the bundle is encrypted: set {ENV} or run on a terminal to be asked for the password")
    first = getpass.getpass("bundle password: ")
    if not first:
        raise InputError("an empty password is not allowed")
    if confirm and getpass.getpass("again: ") != first:
        raise InputError("the two passwords differ")
    return first
