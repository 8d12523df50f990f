"""``preflight``: check, read-only, that the AWS account matches the site file before a deploy.

Each check names what it looked at, what it found and, when it fails, the fix (the site field to
change or the AWS resource to create).  Checks that need something an earlier check found missing
are reported as ``skip`` with the reason, so one root cause (bad credentials, an AZ written in
``aws.region``) gives one failure rather than ten.  The troubleshooting section of the guide lists
the failures these catch before bosh-init does: no AMI for the region (an AZ in ``aws.region``),
an M1 instance type with an HVM stemcell, a security group without port 6868, a key pair whose
private key is not the local one.

The checks themselves are in ``checks_network`` (credentials, region, zone, subnet, addresses,
elastic IPs, security group) and ``checks_machines`` (key pair, instance types, stemcell AMI).
What the site file alone decides (its mode, the key file, the instance types' families, the
subnet id's form) comes from the site rules, ``installer.site.rules``, and is reported, not
decided again.  Imports the run, its checks, the session and the site rules.
"""

from __future__ import annotations

from bundler.core.errors import BundleError
from bundler.core.lock import Lock
from installer.aws.checkrun import PASS, Check, Preflight
from installer.aws.checks_machines import check_instance_types, check_key_pair, check_stemcell_ami
from installer.aws.checks_network import (
    check_addresses,
    check_bosh_elastic_ip,
    check_credentials,
    check_elastic_ip,
    check_region,
    check_security_group,
    check_subnet,
    check_zone,
)
from installer.aws.session import Clients, clients_for, quiet_secrets
from installer.site.model import Site
from installer.site.rules import secret_file_problems

__all__ = ["Check", "preflight", "require_preflight"]


def preflight(site: Site, lock: Lock | None = None, clients: Clients | None = None) -> list[Check]:
    """Run every check; never changes anything in the account.

    Called without ``clients`` (as ``bosh-install deploy`` does), it builds them from the site and
    keeps the site's credentials out of the log handlers for the duration.
    """
    if clients is not None:
        return _run(Preflight(site, lock, clients))
    clients = clients_for(site)
    with quiet_secrets(clients.secrets):
        return _run(Preflight(site, lock, clients))


def _run(pf: Preflight) -> list[Check]:
    check_site_file(pf)
    check_credentials(pf)
    check_region(pf)
    pf.aws("availability_zone", "aws.availability_zone", check_zone)
    pf.aws("subnet", "network.subnet_id", check_subnet)
    check_addresses(pf)
    pf.aws("elastic_ip", "microbosh.elastic_ip", check_elastic_ip)
    if pf.site.bosh and pf.site.bosh.elastic_ip:
        pf.aws("bosh_elastic_ip", "bosh.elastic_ip", check_bosh_elastic_ip)
    pf.aws("key_pair", "key_pair.name", check_key_pair)
    pf.aws("security_group", "network.security_group", check_security_group)
    pf.aws("instance_types", "microbosh.instance_type", check_instance_types)
    check_stemcell_ami(pf)
    return pf.checks


def check_site_file(pf: Preflight) -> None:
    """A site file holding AWS keys must be private (the site rules decide)."""
    if not pf.site.aws.secret_access_key or pf.report("site_file", secret_file_problems(pf.site)):
        return
    pf.add("site_file", PASS, f"{pf.site.path} holds AWS keys and only its owner can read it")


def require_preflight(site: Site, lock: Lock) -> None:
    """Run ``preflight``; any failed check stops the deploy (exit 1) with all of them listed."""
    failed = [c for c in preflight(site, lock) if not c.ok]
    if failed:
        lines = [f"{c.field or c.name}: {c.detail}" + (f" ({c.fix})" if c.fix else "") for c in failed]
        raise BundleError(
            f"AWS preflight failed ({len(failed)} checks); fix these or pass --skip-preflight:\n  " + "\n  ".join(lines)
        )
