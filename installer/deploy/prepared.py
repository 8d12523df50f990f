"""Preparing a deploy: the site file, the lock and the vars store turned into checked manifests.

``prepare`` loads the site file, the lock and the vars store, renders the manifests of the kinds
asked for (``microbosh``, ``bosh``) and checks them; ``Prepared.problems`` lists every problem, and
nothing runs while one remains.  ``Prepared`` also knows every secret value to redact, writes the
manifests into the state directory and makes the step that checks the release and stemcell files
against the lock.  ``recorded_uuid`` is the director UUID a microbosh deploy left in the journal.

Imports the lock, the site model and credentials, the manifests package (render, check, secrets),
the journal, the state directory's layout and the step runner's ``Step``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundler.core.errors import InputError
from bundler.core.lock import Lock, read_lock
from installer.journal import Journal, digest
from installer.manifests import render as manifests
from installer.manifests.check import check, vars_store_problems
from installer.manifests.secrets import Secrets, VarsStore
from installer.site.credentials import Credentials, aws_credentials
from installer.site.model import Site, load_site
from installer.state import StateDir
from installer.steprunner import Step

log = logging.getLogger(__name__)

DIRECTOR_PORT = 25555


@dataclass
class Prepared:
    site: Site
    lock: Lock
    state: StateDir
    secrets: dict[str, Secrets]
    rendered: dict[str, manifests.Rendered]
    problems: list[str] = field(default_factory=list)
    aws_secrets: tuple[str, ...] = ()

    def secret_values(self) -> list[str]:
        values = {v for s in self.secrets.values() for v in s.values()}
        return sorted(values | set(self.aws_secrets))

    @property
    def admin_password(self) -> str:
        return self.secrets["microbosh"]["admin_password"]

    def director_url(self) -> str:
        """MicroBOSH's director: its elastic IP, else its static IP."""
        mb = self.site.microbosh
        return f"https://{mb.elastic_ip or mb.static_ip}:{DIRECTOR_PORT}"

    def manifest_digest(self, kind: str) -> str:
        return digest(self.rendered[kind].text)

    def write_manifest(self, kind: str) -> Path:
        path = manifests.write(self.rendered[kind], self.state.manifests)
        log.info("wrote %s", path)
        return path

    def verify_step(self, kind: str) -> Step:
        """``KIND.verify``: the release and stemcell files against the lock (again when one changed)."""
        files = self.rendered[kind].artifacts

        def run() -> dict[str, Any]:
            return {af.artifact.path: manifests.verify_file(af) for af in files}

        inputs = {af.artifact.path: [af.artifact.sha256, _stat(af.path)] for af in files}
        return Step(f"{kind}.verify", inputs, run, f"check {len(files)} release/stemcell files against the lock")


def _stat(path: Path) -> list[int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return []
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def recorded_uuid(state_dir: Path) -> str | None:
    """The director UUID the microbosh deploy recorded in the journal, if any."""
    return Journal.read(state_dir).facts("microbosh.uuid").get("uuid")


def prepare(
    site_path: Path,
    lock_path: Path,
    state: StateDir,
    kinds: Sequence[str] = manifests.KINDS,
    director_uuid: str | None = None,
    bundle_dir: Path | None = None,
) -> Prepared:
    """Load, render and check; ``Prepared.problems`` lists every problem (empty when all is well)."""
    site = load_site(site_path)
    lock = read_lock(lock_path)
    store = VarsStore(site.vars_store)
    extra = vars_store_problems(site, state.payload, bundle_dir)
    try:
        creds = aws_credentials(site)
    except InputError:
        creds = Credentials("", "", "missing")  # reported by the site check (aws.profile)
    secrets = {k: store.secrets_for(k) for k in kinds}
    rendered = {}
    for kind in kinds:
        uuid = director_uuid if kind == "bosh" else None
        rendered[kind] = manifests.render(kind, site, lock, state.payload, secrets[kind], creds, uuid)
    prepared = Prepared(site, lock, state, secrets, rendered)
    prepared.aws_secrets = tuple(v for v in (creds.secret_access_key,) if v)
    prepared.problems = check(site, lock, list(rendered.values()), extra, bundle_dir)
    return prepared
