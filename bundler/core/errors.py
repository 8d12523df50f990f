"""The project's error types.

Every failure a user can act on is a ``BundleError`` (or a subclass) whose message says what went
wrong, where (file, key path, line, artifact, URL) and what to do.  The CLIs turn these into one
line on stderr and the exit code below; anything else is a bug and shows a traceback.

Exit codes: 0 ok, 1 a failed check or operation, 2 bad usage or bad input.
"""

from __future__ import annotations


class BundleError(Exception):
    """A failed operation or check the user can act on (exit code 1)."""

    exit_code = 1


class InputError(BundleError):
    """Bad input: a malformed spec, lock, site file or argument (exit code 2)."""

    exit_code = 2


class IntegrityError(BundleError):
    """Bytes that do not match the checksum, size or signature we trust (exit code 1)."""


class ResolutionError(BundleError):
    """A request that cannot be satisfied (unknown package, conflicting requirements)."""


class FetchError(BundleError):
    """A download or upstream request that failed after retries."""
