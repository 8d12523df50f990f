"""boto3 clients for a site, with credentials kept out of every log and message.

``clients_for(site)`` builds ``Clients`` from the site's ``AwsAccess`` (``installer.site.credentials``;
the session itself is ``bundler.core.awssession``'s, the one session builder of the project):
one cached client per service and region, with few quick retries.  ``quiet_secrets`` holds the
credentials out of the log handlers for the duration of a block, through the installer's one
redaction (``installer.redact``), for callers that turn on debug logging (botocore logs request
headers at that level).  ``error_text``/``error_code`` turn boto3 failures into one-line reasons.
Imports ``bundler.core``, the site model and credentials, and ``installer.redact``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from bundler.core.awssession import QUICK, AwsAccess
from bundler.core.errors import BundleError
from installer.redact import Redactor, guard_logging, unguard_logging
from installer.site.credentials import site_access
from installer.site.model import Site

log = logging.getLogger(__name__)

# botocore and boto3 log request headers and signing details at DEBUG: held at INFO while guarded
CHATTY_LOGGERS = ("botocore", "boto3")


@dataclass
class Clients:
    """boto3 clients for one access (credentials, region, endpoint); its secrets are listed for redaction."""

    access: AwsAccess
    session: Any = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:  # never show the session's credentials
        return f"Clients(region={self.region!r}, endpoint_url={self.endpoint_url!r})"

    @property
    def region(self) -> str:
        return self.access.region or ""

    @property
    def endpoint_url(self) -> str | None:
        return self.access.endpoint_url

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.access.secrets

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.region
        key = f"{service}@{region}"
        if key not in self._cache:
            if self.session is None:
                self.session = self.access.session()
            self._cache[key] = self.access.client(service, session=self.session, region=region, settings=QUICK)
        return self._cache[key]

    @property
    def ec2(self) -> Any:
        return self.client("ec2")

    @property
    def sts(self) -> Any:
        return self.client("sts")


def clients_for(site: Site) -> Clients:
    access = site_access(site)
    log.info("AWS: region %s, %s", access.region, access.describe())
    return Clients(access, access.session())


@contextmanager
def quiet_secrets(secrets: tuple[str, ...]) -> Iterator[None]:
    """Scrub ``secrets`` from every log record, and hold botocore at INFO, for the duration of the block."""
    attached = guard_logging(Redactor(secrets), quiet=CHATTY_LOGGERS)
    try:
        yield
    finally:
        unguard_logging(attached)


def error_text(exc: BaseException) -> str:
    """A one-line reason for a boto3/botocore failure, without request ids or credentials."""
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials (set aws.profile, or aws.access_key_id and aws.secret_access_key)"
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return f"cannot reach the AWS endpoint ({exc.kwargs.get('endpoint_url', '')})"
    return f"{type(exc).__name__}: {exc}"


def error_code(exc: BaseException) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


AWS_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


class AwsError(BundleError):
    """An AWS call that failed; the message names the operation and AWS's reason."""
