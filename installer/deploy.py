"""Deploying MicroBOSH (bosh-init) and BOSH (bosh v1 CLI) from the site file and the bundle.

``prepare`` loads the site file, the lock and the vars store, renders both manifests and checks
them; nothing runs while a problem remains.  ``deploy_microbosh`` and ``deploy_bosh`` are sequences
of journaled steps (``installer.journal``): each step's inputs are digested, a step done with the
same inputs is skipped, a failed or interrupted one runs again, so re-running the command resumes
where it stopped.  Commands run through ``installer.runner.Runner`` with every secret registered
for redaction, so logs, ``--plan`` output and errors never show a password.

State (``--state-dir``, default ``/var/lib/bosh-offline``)::

    deploy/microbosh.yml, deploy/bosh.yml   rendered manifests (0600)
    deploy/microbosh-state.json             bosh-init's state, written beside its manifest
    microbosh-state.json                    copy kept after every bosh-init run (needed to update
                                            or delete MicroBOSH; restored if the first is lost)
    bosh_config                             the bosh CLI's config (target, login), not ~/.bosh_config
    logs/                                   bosh-init.log (BOSH_INIT_LOG_PATH), one log per command,
                                            bosh-task-N-debug.log after a failed deploy
"""

from __future__ import annotations

import importlib
import logging
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundler.errors import BundleError, InputError
from bundler.lock import Lock, read_lock
from installer import manifests, validate
from installer.journal import Journal, digest
from installer.runner import Runner, StepError
from installer.secrets import Secrets, VarsStore
from installer.site import Site, load_site

log = logging.getLogger(__name__)

DEFAULT_STATE_DIR = Path("/var/lib/bosh-offline")
DIRECTOR_PORT = 25555


@dataclass(frozen=True)
class Paths:
    state_dir: Path
    payload: Path

    @property
    def manifests(self) -> Path:
        return self.state_dir / "deploy"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def bosh_config(self) -> Path:
        return self.state_dir / "bosh_config"

    def manifest(self, kind: str) -> Path:
        return self.manifests / f"{kind}.yml"

    def bosh_init_state(self) -> Path:
        return self.manifests / "microbosh-state.json"

    def saved_state(self) -> Path:
        return self.state_dir / "microbosh-state.json"


@dataclass
class Prepared:
    site: Site
    lock: Lock
    paths: Paths
    secrets: dict[str, Secrets]
    rendered: dict[str, manifests.Rendered]
    problems: list[str] = field(default_factory=list)
    aws_secrets: tuple[str, ...] = ()

    def secret_values(self) -> list[str]:
        values = {v for s in self.secrets.values() for v in s.values()}
        return sorted(values | set(self.aws_secrets))


def recorded_uuid(state_dir: Path) -> str | None:
    """The director UUID the microbosh deploy recorded in the journal, if any."""
    path = Path(state_dir) / "journal.json"
    if not path.exists():
        return None
    return Journal.open(state_dir).facts("microbosh.uuid").get("uuid")


def prepare(
    site_path: Path,
    lock_path: Path,
    paths: Paths,
    kinds: Sequence[str] = manifests.KINDS,
    director_uuid: str | None = None,
    bundle_dir: Path | None = None,
) -> Prepared:
    """Load, render and check; ``Prepared.problems`` lists every problem (empty when all is well)."""
    site = load_site(site_path)
    lock = read_lock(lock_path)
    store = VarsStore(site.vars_store)
    extra = validate.vars_store_problems(site, paths.payload, bundle_dir)
    try:
        creds = manifests.aws_credentials(site)
    except InputError:
        creds = manifests.Credentials("", "", "missing")  # reported by the site check (aws.profile)
    secrets = {k: store.secrets_for(k) for k in kinds}
    rendered = {}
    for kind in kinds:
        uuid = director_uuid if kind == "bosh" else None
        rendered[kind] = manifests.render(kind, site, lock, paths.payload, secrets[kind], creds, uuid)
    prepared = Prepared(site, lock, paths, secrets, rendered)
    prepared.aws_secrets = tuple(v for v in (creds.secret_access_key,) if v)
    prepared.problems = validate.check(site, lock, list(rendered.values()), extra)
    return prepared


def redact_all(runner: Runner, prepared: Prepared) -> None:
    runner.redact(*prepared.secret_values())


# ---------------------------------------------------------------- steps


@dataclass(frozen=True)
class Step:
    """One journaled step: ``argv`` (for the plan; may be empty) and the function that does it."""

    name: str
    inputs: Any
    describe: str
    run: Callable[[], dict[str, Any] | None]
    argv: tuple[str, ...] = ()


@dataclass
class StepReport:
    name: str
    status: str  # done (skipped) | ran | failed | would run
    describe: str
    command: str = ""


def run_steps(journal: Journal, runner: Runner, steps: Sequence[Step], plan_only: bool = False) -> list[StepReport]:
    reports: list[StepReport] = []
    for step in steps:
        inputs = digest(step.inputs)
        status = journal.status(step.name, inputs)
        shown = runner.shown(step.argv) if step.argv else ""
        if status == "done":
            reports.append(StepReport(step.name, "done", step.describe, shown))
            continue
        if plan_only:
            reports.append(StepReport(step.name, f"would run ({status})", step.describe, shown))
            continue
        log.info("step %s: %s", step.name, step.describe)
        journal.start(step.name, inputs)
        try:
            facts = step.run() or {}
        except BundleError as exc:
            journal.fail(step.name, runner.scrub(str(exc)))
            raise StepError(f"step {step.name} failed: {runner.scrub(str(exc))}") from None
        journal.finish(step.name, facts)
        reports.append(StepReport(step.name, "ran", step.describe, shown))
    return reports


def run_preflight(site: Site, lock: Lock) -> bool:
    """Run ``installer.aws.preflight(site, lock)`` when that module provides it; False if absent."""
    try:
        module = importlib.import_module("installer.aws")
    except ModuleNotFoundError as exc:
        if exc.name in ("installer.aws",):
            return False
        raise
    check = getattr(module, "preflight", None)
    if check is None:
        return False
    check(site, lock)
    return True


# ---------------------------------------------------------------- bosh CLI output


_TASK_RE = re.compile(r"Director task (\d+)")


def parse_table(text: str) -> list[dict[str, str]]:
    """Rows of the bosh v1 CLI's ``+---+`` tables, keyed by lower-case header."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and line.endswith("|"):
            rows.append([c.strip() for c in line[1:-1].split("|")])
    if not rows:
        return []
    header = [h.lower() for h in rows[0]]
    return [dict(zip(header, r, strict=True)) for r in rows[1:] if len(r) == len(header)]


def versions_in(rows: list[dict[str, str]], name: str) -> set[str]:
    out: set[str] = set()
    for row in rows:
        if row.get("name") == name:
            for v in re.split(r"[,\s]+", row.get("versions", row.get("version", ""))):
                if v:
                    out.add(v.rstrip("*"))
    return out


def task_number(text: str) -> str | None:
    found = _TASK_RE.findall(text)
    return found[-1] if found else None


def keep_state(paths: Paths) -> None:
    """Copy bosh-init's state file into the state dir (the previous copy becomes ``.prev``)."""
    src = paths.bosh_init_state()
    if not src.exists():
        return
    dst = paths.saved_state()
    if dst.exists():
        shutil.copy2(dst, dst.with_name(dst.name + ".prev"))
    shutil.copy2(src, dst)


def restore_state(paths: Paths) -> None:
    """Put the kept state back beside the manifest if bosh-init's own copy is gone."""
    src, dst = paths.saved_state(), paths.bosh_init_state()
    if src.exists() and not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        log.warning("restored %s from %s", dst, src)


__all__ = [
    "DEFAULT_STATE_DIR",
    "DIRECTOR_PORT",
    "Paths",
    "Prepared",
    "prepare",
    "recorded_uuid",
    "run_preflight",
    "run_steps",
    "Step",
    "StepReport",
    "parse_table",
    "task_number",
    "keep_state",
    "restore_state",
]
