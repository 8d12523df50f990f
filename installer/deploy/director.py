"""``bosh-install deploy director`` / ``destroy director``: the director by ``bosh create-env`` from the
bundled bosh-deployment (the lock's ``director`` section, ``toolchain: create-env``).

deploy:  ``director.verify`` (every file create-env reads, sha256 against the lock) → ``director.unpack``
         (bosh-deployment into STATE/director) → ``director.ops`` (the offline ops file and the site's
         values as a vars file) → ``director.create-env`` (``bosh create-env`` with ``--state`` and
         ``--vars-store`` in the state directory)
destroy: the same preparation, then ``bosh delete-env``; the director's steps are forgotten.

The steps are journaled through ``installer.steprunner`` in the journal the install and the bosh-init
path use: a re-run skips what is done with the same inputs and resumes at a failed or interrupted step.
The AWS secret key is registered with the runner's redactor, so no log, plan or journal shows it.

Imports the lock, the digest, the site model and credentials, the offline ops file, the command lines
(``createenv``), the journal, the step runner and the process runner.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundler.core.digest import hash_file
from bundler.core.errors import InputError, IntegrityError
from bundler.core.lock import DirectorSection, Lock, read_lock
from bundler.core.sourcetar import unpack
from installer.deploy.createenv import Layout, argv, site_vars, write_site_vars
from installer.journal import Journal, digest
from installer.manifests.opsfile import offline_ops, write_ops
from installer.process import Runner
from installer.site.credentials import aws_credentials
from installer.site.model import Site, load_site
from installer.state import StateDir
from installer.steprunner import Planned, Step, StepRunner, plan


@dataclass
class Director:
    site: Site
    lock: Lock
    state: StateDir
    section: DirectorSection
    layout: Layout
    vars: dict[str, Any]

    @property
    def secrets(self) -> list[str]:
        return [v for v in (self.vars.get("secret_access_key"),) if v]


def prepare(site_path: Path, lock_path: Path, state: StateDir) -> Director:
    site, lock = load_site(site_path), read_lock(lock_path)
    section = lock.director
    if section.toolchain != "create-env":
        raise InputError(
            f"{lock_path}: the bundle's director toolchain is {section.toolchain!r}, not create-env: "
            "deploy with 'bosh-install deploy microbosh', or lock a spec with director.toolchain: create-env"
        )
    return Director(site, lock, state, section, Layout(state.path / "director"), site_vars(site, aws_credentials(site)))


def _files(d: Director) -> list[str]:
    paths = [d.section.source, *(o["payload"] for o in d.section.ops_files if "payload" in o)]
    return paths + [u["artifact"] for u in d.section.urls]


def _verify(d: Director) -> dict[str, Any]:
    problems = []
    for path in _files(d):
        artifact, file = d.lock.by_path(path), d.state.payload / path
        if artifact is None:
            problems.append(f"{path}: the lock's director section names it but the lock has no such artifact")
        elif not file.is_file():
            problems.append(f"{file}: missing (run 'bosh-install install' to extract the payload)")
        elif (got := hash_file(file)[0]) != artifact.sha256:
            problems.append(f"{file}: sha256 is {got}, the lock says {artifact.sha256}")
    if problems:
        raise IntegrityError("; ".join(problems))
    return {"files": len(_files(d))}


def _unpack(d: Director) -> dict[str, Any]:
    """bosh-deployment into STATE/director/bosh-deployment (unpacked beside it, then renamed)."""
    staging = d.layout.root / ".bosh-deployment.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    tree = unpack(d.state.payload / d.section.source, staging)
    shutil.rmtree(d.layout.source, ignore_errors=True)
    os.replace(tree, d.layout.source)
    shutil.rmtree(staging, ignore_errors=True)
    return {"source": str(d.layout.source)}


def _ops(d: Director) -> dict[str, Any]:
    write_ops(d.section, d.state.payload, d.layout.ops)
    write_site_vars(d.layout.site_vars, d.vars)
    return {"ops": str(d.layout.ops)}


def steps(d: Director, runner: Runner, bosh: str, progress: Callable[[str], None] | None) -> list[Step]:
    files = {p: d.lock.by_path(p).sha256 if d.lock.by_path(p) else "" for p in _files(d)}
    ops = {"ops": offline_ops(d.section, d.state.payload), "vars": digest(d.vars)}
    create = argv(bosh, "create-env", d.section, d.layout, d.state.payload, d.site)

    def create_env() -> dict[str, Any]:
        d.layout.home.mkdir(parents=True, exist_ok=True)
        runner.run(create, log_name="bosh-create-env.log", env={"HOME": str(d.layout.home)}, on_line=progress)
        return {"state": str(d.layout.state), "vars_store": str(d.layout.creds)}

    return [
        Step("director.verify", files, lambda: _verify(d), f"check {len(files)} files create-env reads"),
        Step("director.unpack", d.section.source, lambda: _unpack(d), "unpack bosh-deployment"),
        Step("director.ops", ops, lambda: _ops(d), "write the offline ops file and the site's variables"),
        Step("director.create-env", [files, ops, create], create_env, "bosh create-env (creates the director)", create),
    ]


def deploy(
    d: Director, runner: Runner, bosh: str, progress: Callable[[str], None] | None = None, plan_only: bool = False
) -> list[Planned]:
    runner.redact(*d.secrets)
    journal = Journal.open(d.state.path)
    planned = plan(journal, steps(d, runner, bosh, progress))
    if not plan_only:
        StepRunner(journal, scrub=runner.redactor.scrub, name_failures=True).run(planned)
    return planned


def destroy(d: Director, runner: Runner, bosh: str, progress: Callable[[str], None] | None = None) -> None:
    """``bosh delete-env`` with the same manifest, ops files, state and vars store; then forget the steps."""
    runner.redact(*d.secrets)
    if not d.layout.state.is_file():
        raise InputError(f"{d.layout.state}: no director state here; nothing was created from this state directory")
    _verify(d)
    _unpack(d)
    _ops(d)
    delete = argv(bosh, "delete-env", d.section, d.layout, d.state.payload, d.site)
    runner.run(delete, log_name="bosh-delete-env.log", env={"HOME": str(d.layout.home)}, on_line=progress)
    journal = Journal.open(d.state.path)
    for name in [n for n in journal.steps if n.startswith("director.")]:
        journal.forget(name)
