"""boto3 clients built from the site file, with credentials kept out of every log and message.

The site names either a profile (``aws.profile``, read from the usual AWS config files) or a key
pair (``aws.access_key_id`` + ``aws.secret_access_key``), and optionally ``aws.endpoint_url`` for an
AWS-compatible endpoint.  ``Clients`` hands out one client per service for the site's region.
``SecretFilter`` replaces credential values in log records, for callers that turn on debug logging
(botocore logs request headers at that level).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from bundler.core.errors import BundleError, InputError
from installer.site.model import Site

log = logging.getLogger(__name__)

# Few quick retries: a preflight that waits minutes on a wrong endpoint helps nobody.
CLIENT_CONFIG = botocore.config.Config(
    retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=10, read_timeout=60
)


def make_session(
    *, profile: str | None = None, access_key_id: str | None = None, secret_access_key: str | None = None
) -> boto3.session.Session:
    try:
        if access_key_id:
            return boto3.session.Session(aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key)
        return boto3.session.Session(profile_name=profile) if profile else boto3.session.Session()
    except botocore.exceptions.ProfileNotFound:
        raise InputError(f"AWS profile {profile!r} is not in the AWS config files (~/.aws/config)") from None


@dataclass
class Clients:
    """boto3 clients for one region and endpoint; secrets listed in ``secrets`` for redaction."""

    session: Any
    region: str
    endpoint_url: str | None = None
    secrets: tuple[str, ...] = ()
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:  # never show the session's credentials
        return f"Clients(region={self.region!r}, endpoint_url={self.endpoint_url!r})"

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.region
        key = f"{service}@{region}"
        if key not in self._cache:
            self._cache[key] = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint_url, config=CLIENT_CONFIG
            )
        return self._cache[key]

    @property
    def ec2(self) -> Any:
        return self.client("ec2")

    @property
    def sts(self) -> Any:
        return self.client("sts")


def clients_for(site: Site) -> Clients:
    aws = site.aws
    session = make_session(
        profile=aws.profile, access_key_id=aws.access_key_id, secret_access_key=aws.secret_access_key
    )
    how = "access key from the site file" if aws.access_key_id else f"profile {aws.profile or 'default'}"
    log.info("AWS: region %s, %s%s", aws.region, how, f", endpoint {aws.endpoint_url}" if aws.endpoint_url else "")
    secrets = tuple(s for s in (aws.access_key_id, aws.secret_access_key) if s)
    return Clients(session, aws.region, aws.endpoint_url, secrets)


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


class SecretFilter(logging.Filter):
    """Replace the given secret strings in every log record passing through a handler."""

    def __init__(self, secrets: tuple[str, ...]):
        super().__init__()
        self.secrets = tuple(sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            scrubbed = text
            for secret in self.secrets:
                scrubbed = scrubbed.replace(secret, "<redacted>")
            if scrubbed != text:
                record.msg, record.args = scrubbed, None
        return True


def guard_logging(secrets: tuple[str, ...]) -> list[tuple[logging.Handler, SecretFilter]]:
    """Attach a ``SecretFilter`` to the root logger's handlers; returns what to detach afterwards.

    botocore at DEBUG level logs request headers and signing details, so it is held at INFO.
    """
    logging.getLogger("botocore").setLevel(max(logging.getLogger().level, logging.INFO))
    logging.getLogger("boto3").setLevel(max(logging.getLogger().level, logging.INFO))
    flt = SecretFilter(secrets)
    attached = []
    for handler in logging.getLogger().handlers:
        handler.addFilter(flt)
        attached.append((handler, flt))
    return attached


def unguard_logging(attached: list[tuple[logging.Handler, SecretFilter]]) -> None:
    for handler, flt in attached:
        handler.removeFilter(flt)
