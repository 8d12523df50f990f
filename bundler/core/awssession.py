"""AWS access for both sides: the one place that turns a profile or keys, a region and an endpoint into boto3.

``AwsAccess`` carries what the operator gave, either on the command line (``add_arguments`` /
``AwsAccess.from_args``: ``--profile``, ``--region``, ``--endpoint-url``) or in the site file's
``aws`` section (the installer builds one from it).  ``session()`` builds the boto3 session:
the keys when given, else the named profile, else boto3's usual chain.  ``client(service)`` makes a
client for the access's region and endpoint: few quick retries for the preflight's API calls
(``QUICK``), more for bundle transfers (``TRANSFER``), and path-style addressing for S3 on a custom
endpoint (what S3-compatible stores expect).  ``profile_keys`` reads a profile's static keys
through botocore's own config loader, for the manifests that must carry them; profiles are never
parsed here by hand.  ``secrets`` lists the values that must never reach a log.

Used by the installer's ``aws`` package, ``bundler.core.s3``, ``bosh-bundle publish`` and
``bosh-install fetch``.  Imports ``bundler.core.errors``; boto3 and botocore are imported when a
session is made, so importing this module stays cheap.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any

from bundler.core.errors import InputError

# The preflight's calls: a check that waits minutes on a wrong endpoint helps nobody.
QUICK = {"retries": {"max_attempts": 2, "mode": "standard"}, "connect_timeout": 10, "read_timeout": 60}
# Bundle transfers: many large requests, worth retrying.
TRANSFER = {"retries": {"max_attempts": 5, "mode": "standard"}}
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class StaticKeys:
    access_key_id: str
    secret_access_key: str
    source: str  # "profile NAME in FILE"


@dataclass(frozen=True)
class AwsAccess:
    """Who to be (keys or a profile), where (region) and through which endpoint."""

    profile: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    region: str | None = None
    endpoint_url: str | None = None

    def __repr__(self) -> str:  # never show the keys
        return f"AwsAccess(profile={self.profile!r}, region={self.region!r}, endpoint_url={self.endpoint_url!r})"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AwsAccess:
        return cls(profile=args.profile, region=args.region, endpoint_url=args.endpoint_url)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.access_key_id, self.secret_access_key) if s)

    def describe(self) -> str:
        """How the credentials are chosen, for a log line (never the keys themselves)."""
        how = "access key from the site file" if self.access_key_id else f"profile {self.profile or 'default'}"
        return how + (f", endpoint {self.endpoint_url}" if self.endpoint_url else "")

    def session(self) -> Any:
        """A boto3 session; ``InputError`` when the named profile is in no AWS config file."""
        import boto3
        import botocore.exceptions

        try:
            if self.access_key_id:
                return boto3.session.Session(
                    aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key
                )
            return boto3.session.Session(profile_name=self.profile) if self.profile else boto3.session.Session()
        except botocore.exceptions.ProfileNotFound:
            raise InputError(
                f"AWS profile {self.profile!r} is not in the AWS config files ({' or '.join(config_files())})"
            ) from None

    def client(
        self, service: str, *, session: Any = None, region: str | None = None, settings: dict[str, Any] = QUICK
    ) -> Any:
        """A client of ``service`` for ``region`` (default: the access's, the profile's, or us-east-1)."""
        import botocore.config

        session = session or self.session()
        options = dict(settings)
        if service == "s3" and self.endpoint_url:
            options["s3"] = {"addressing_style": "path"}
        return session.client(
            service,
            region_name=region or self.region or session.region_name or DEFAULT_REGION,
            endpoint_url=self.endpoint_url,
            config=botocore.config.Config(**options),
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line options ``AwsAccess.from_args`` reads."""
    parser.add_argument("--endpoint-url", default=None, help="an S3-compatible endpoint (default: AWS S3)")
    parser.add_argument("--profile", default=None, help="AWS profile for credentials (default: the usual chain)")
    parser.add_argument("--region", default=None, help="region of the bucket (default: the profile's, or us-east-1)")


def config_files() -> list[str]:
    """The shared credentials file and the config file, as botocore locates them."""
    import botocore.session

    session = botocore.session.Session()
    return [os.path.expanduser(session.get_config_variable(v)) for v in ("credentials_file", "config_file")]


def profile_keys(profile: str) -> StaticKeys | None:
    """The static keys profile ``profile`` holds in the AWS config files, read by botocore; None if none."""
    import botocore.exceptions
    import botocore.session

    session = botocore.session.Session(profile=profile)
    try:
        config = session.get_scoped_config()
    except (botocore.exceptions.ProfileNotFound, botocore.exceptions.ConfigParseError):
        return None
    key, secret = config.get("aws_access_key_id"), config.get("aws_secret_access_key")
    if not (key and secret):
        return None
    return StaticKeys(key, secret, f"profile {profile} in {' or '.join(config_files())}")
