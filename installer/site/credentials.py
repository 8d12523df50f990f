"""The AWS access a site file gives: an ``AwsAccess`` for boto3, and the static keys the manifests carry.

The site names either a key pair (``aws.access_key_id`` + ``aws.secret_access_key``) or a profile
(``aws.profile``, default ``default``), and optionally ``aws.endpoint_url``.  ``site_access`` turns
that into the one ``AwsAccess`` (``bundler.core.awssession``) the AWS checks, ``aws prepare`` and
``bosh-install fetch`` use.  The CPI in both manifests needs the keys themselves:
``site_credentials`` takes them from the site file, or from the profile through botocore's config
loader (``profile_keys``); ``aws_credentials`` raises when there are none.  Imports the site model
and ``bundler.core.awssession``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bundler.core.awssession import AwsAccess, config_files, profile_keys
from bundler.core.errors import InputError
from installer.site.model import Site


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    source: str  # "site file" or "profile NAME in FILE"


def site_access(site: Site) -> AwsAccess:
    aws = site.aws
    return AwsAccess(
        profile=aws.profile,
        access_key_id=aws.access_key_id,
        secret_access_key=aws.secret_access_key,
        region=aws.region,
        endpoint_url=aws.endpoint_url,
    )


def site_credentials(site: Site) -> Credentials | None:
    """Keys from the site file, or from its profile in the AWS config files; None when neither has any."""
    aws = site.aws
    if aws.access_key_id and aws.secret_access_key:
        return Credentials(aws.access_key_id, aws.secret_access_key, "site file")
    keys = profile_keys(aws.profile or "default")
    return Credentials(keys.access_key_id, keys.secret_access_key, keys.source) if keys else None


def missing_credentials(site: Site) -> str:
    """What to say when ``site_credentials`` finds nothing."""
    profile = site.aws.profile or "default"
    return (
        f"no keys for profile {profile!r} in {' or '.join(config_files())}; "
        "give aws.access_key_id and aws.secret_access_key, or a profile that has them"
    )


def aws_credentials(site: Site) -> Credentials:
    """``site_credentials``, or ``InputError`` naming ``aws.profile``."""
    found = site_credentials(site)
    if found is None:
        raise InputError(f"{site.where('aws.profile')}: {missing_credentials(site)}")
    return found
