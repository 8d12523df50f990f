"""``bosh create-env`` / ``delete-env`` command lines for the director, and the site's values as variables.

Where the files go (all under ``STATE/director/``): ``bosh-deployment/`` (the bundled source,
unpacked), ``offline-ops.yml`` (``installer.manifests.opsfile``), ``site-vars.yml`` (the site's values,
mode 0600: it holds the AWS secret key), ``state.json`` (``--state``) and ``creds.yml``
(``--vars-store``: the generated passwords and certificates, 0600, kept by bosh).  The CLI's own
cache goes to ``STATE/director/home`` (``HOME``), not root's home.

Imports the lock, the site model and credentials.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bundler.core.lock import DirectorSection
from installer.site.credentials import Credentials
from installer.site.model import Site


@dataclass(frozen=True)
class Layout:
    root: Path  # STATE/director

    @property
    def source(self) -> Path:
        return self.root / "bosh-deployment"

    @property
    def ops(self) -> Path:
        return self.root / "offline-ops.yml"

    @property
    def site_vars(self) -> Path:
        return self.root / "site-vars.yml"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def creds(self) -> Path:
        return self.root / "creds.yml"

    @property
    def home(self) -> Path:
        return self.root / "home"


def site_vars(site: Site, creds: Credentials) -> dict[str, Any]:
    """bosh-deployment's ``((variables))`` (bosh.yml, aws/cpi.yml) from the site file."""
    values: dict[str, Any] = {
        "director_name": site.director.name or site.microbosh.director_name,
        "internal_ip": site.director.internal_ip or site.microbosh.static_ip,
        "internal_cidr": site.network.cidr,
        "internal_gw": site.network.gateway,
        "az": site.aws.availability_zone,
        "region": site.aws.region,
        "subnet_id": site.network.subnet_id,
        "default_key_name": site.key_pair.name,
        "default_security_groups": [site.network.security_group],
        "access_key_id": creds.access_key_id,
        "secret_access_key": creds.secret_access_key,
    }
    values.update(dict(site.director.vars))
    return values


def write_site_vars(path: Path, values: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        yaml.safe_dump(values, out, sort_keys=True)
    os.replace(tmp, path)


def argv(bosh: str, verb: str, section: DirectorSection, layout: Layout, payload: Path, site: Site) -> tuple[str, ...]:
    """``bosh create-env|delete-env bosh.yml -o OPS… -o offline-ops.yml --state … --vars-store …``
    (``--tty``: the CLI prints its stages only to a terminal otherwise, and the log should show them)."""
    ops: list[str] = []
    for op in section.ops_files:
        path = layout.source / op["bosh_deployment"] if "bosh_deployment" in op else Path(payload) / op["payload"]
        ops += ["-o", str(path)]
    key = ["--var-file", f"private_key={site.key_pair.private_key}"] if site.key_pair.private_key.is_file() else []
    return (
        bosh, "-n", "--tty", verb, str(layout.source / section.manifest), *ops, "-o", str(layout.ops),
        "--state", str(layout.state), "--vars-store", str(layout.creds), "--vars-file", str(layout.site_vars), *key,
    )  # fmt: skip
