"""Deploying MicroBOSH (bosh-init) and BOSH (bosh v1 CLI) from the site file and the bundle.

``prepare`` loads the site file, the lock and the vars store, renders both manifests and checks
them; nothing runs while a problem remains.  ``Deployer.deploy("microbosh"|"bosh")`` runs a
sequence of journaled steps (``installer.journal``, shared with the install steps; names start
with ``microbosh.``/``bosh.``): each step's inputs are digested, a step done with the same inputs
is skipped, a failed or interrupted one runs again, so re-running the command resumes where it
stopped.  ``Deployer.destroy`` wraps ``bosh-init delete`` / ``bosh delete deployment``.

microbosh: verify files → ``bosh-init deploy`` → ``bosh target`` → ``bosh login`` → ``bosh status --uuid``
bosh:      verify files → target + login + UUID check → upload stemcell → upload release (each
           skipped when the director has it) → ``bosh deployment`` → ``bosh -n deploy`` (on failure
           ``bosh task N --debug`` goes into the logs)

Commands run through ``installer.process.Runner`` with every secret registered for redaction, so
logs, ``--plan`` output and errors never show a password.

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

import logging
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundler.core.errors import BundleError, InputError
from bundler.core.lock import Lock, read_lock
from installer.journal import Journal, digest
from installer.manifests import render as manifests
from installer.manifests import validate
from installer.manifests.secrets import Secrets, VarsStore
from installer.process import Runner, StepError
from installer.site.model import Site, load_site

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
    """Versions of ``name`` in a ``bosh releases``/``bosh stemcells`` table.

    The v1 CLI prints one row per version and leaves the name empty on the rows after the first;
    a trailing ``*`` marks what is in use."""
    out: set[str] = set()
    current = ""
    for row in rows:
        current = row.get("name") or current
        if current == name:
            for v in re.split(r"[,\s]+", row.get("versions", row.get("version", ""))):
                if v:
                    out.add(v.rstrip("*"))
    return out


def task_number(text: str) -> str | None:
    found = _TASK_RE.findall(text)
    return found[-1] if found else None


def _stat(path: Path) -> list[int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return []
    return [st.st_size, st.st_mtime_ns, st.st_ino]


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


# ---------------------------------------------------------------- the driver


@dataclass
class Tools:
    bosh_init: str = "bosh-init"
    bosh: str = "bosh"


class Deployer:
    """Builds the journaled steps of ``deploy``/``destroy`` for one state dir and runs them."""

    def __init__(self, prepared: Prepared, runner: Runner, tools: Tools, progress: Callable[[str], None] | None = None):
        self.p = prepared
        self.paths = prepared.paths
        self.runner = runner
        self.tools = tools
        self.progress = progress  # gets every (redacted) output line of the long commands
        self.journal = Journal.open(self.paths.state_dir)
        redact_all(runner, prepared)

    # -- helpers
    def bosh(self, *args: str) -> list[str]:
        return [self.tools.bosh, "-n", "-c", str(self.paths.bosh_config), *args]

    def capture(self, argv: Sequence[str], log_name: str, check: bool = True, show: bool = False) -> tuple[int, str]:
        lines: list[str] = []

        def sink(line: str) -> None:
            lines.append(line)
            if show and self.progress is not None:
                self.progress(line)

        code = self.runner.run(argv, log_name=log_name, on_line=sink, check=check)
        return code, "\n".join(lines)

    def bosh_init_env(self) -> dict[str, str]:
        self.paths.logs.mkdir(parents=True, exist_ok=True)
        return {
            "BOSH_INIT_LOG_PATH": str(self.paths.logs / "bosh-init.log"),
            "BOSH_INIT_LOG_LEVEL": os.environ.get("BOSH_INIT_LOG_LEVEL", "debug"),
        }

    def run_bosh_init(self, argv: Sequence[str], log_name: str) -> None:
        """Run bosh-init beside the manifests with the state file restored before and kept after,
        whatever happens, and its own log redacted."""
        restore_state(self.paths)
        try:
            self.runner.run(
                list(argv), log_name=log_name, cwd=self.paths.manifests, env=self.bosh_init_env(), on_line=self.progress
            )
        finally:
            keep_state(self.paths)
            self.scrub_file(self.paths.logs / "bosh-init.log")

    def scrub_file(self, path: Path) -> None:
        """bosh-init writes its own log (BOSH_INIT_LOG_PATH), mbus URLs and all: redact it in place."""
        if not path.exists():
            return
        text = path.read_text(encoding="utf-8", errors="replace")
        clean = self.runner.scrub(text)
        if clean != text:
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(clean, encoding="utf-8")
            os.replace(tmp, path)

    def microbosh_url(self) -> str:
        mb = self.p.site.microbosh
        return f"https://{mb.elastic_ip or mb.static_ip}:{DIRECTOR_PORT}"

    def manifest_digest(self, kind: str) -> str:
        return digest(self.p.rendered[kind].text)

    def write_manifest(self, kind: str) -> Path:
        path = manifests.write(self.p.rendered[kind], self.paths.manifests)
        log.info("wrote %s", path)
        return path

    def verify_step(self, kind: str) -> Step:
        files = self.p.rendered[kind].artifacts

        def run() -> dict[str, Any]:
            return {af.artifact.path: manifests.verify_file(af) for af in files}

        inputs = {af.artifact.path: [af.artifact.sha256, _stat(af.path)] for af in files}  # a changed file: again
        return Step(f"{kind}.verify", inputs, f"check {len(files)} release/stemcell files against the lock", run)

    # -- MicroBOSH
    def microbosh_steps(self) -> list[Step]:
        manifest = self.paths.manifest("microbosh")
        md = self.manifest_digest("microbosh")
        admin = self.p.secrets["microbosh"]["admin_password"]
        deploy_argv = (self.tools.bosh_init, "deploy", str(manifest))
        target_argv = tuple(self.bosh("target", self.microbosh_url()))
        login_argv = tuple(self.bosh("login", "admin", admin))
        uuid_argv = tuple(self.bosh("status", "--uuid"))

        def bosh_init() -> dict[str, Any]:
            self.run_bosh_init(deploy_argv, "bosh-init-deploy.log")
            return {"state": str(self.paths.saved_state())}

        def uuid() -> dict[str, Any]:
            _, out = self.capture(uuid_argv, "bosh-status.log")
            found = re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", out)
            if not found:
                raise StepError(f"bosh status --uuid printed no UUID; see {self.paths.logs / 'bosh-status.log'}")
            return {"uuid": found[-1], "url": self.microbosh_url()}

        return [
            self.verify_step("microbosh"),
            Step(
                "microbosh.bosh-init",
                {"manifest": md},
                "bosh-init deploy (creates the MicroBOSH VM)",
                bosh_init,
                deploy_argv,
            ),
            Step(
                "microbosh.target",
                {"manifest": md},
                "bosh target MicroBOSH",
                lambda: self._run(target_argv, "bosh-target.log"),
                target_argv,
            ),
            Step(
                "microbosh.login",
                {"manifest": md},
                "bosh login as admin",
                lambda: self._run(login_argv, "bosh-login.log"),
                login_argv,
            ),
            Step("microbosh.uuid", {"manifest": md}, "read the director UUID", uuid, uuid_argv),
        ]

    def _run(self, argv: Sequence[str], log_name: str) -> dict[str, Any]:
        self.runner.run(argv, log_name=log_name)
        return {}

    # -- BOSH
    def bosh_steps(self) -> list[Step]:
        uuid = self.p.rendered["bosh"].manifest.get("director_uuid")
        manifest = self.paths.manifest("bosh")
        md = self.manifest_digest("bosh")
        admin = self.p.secrets["microbosh"]["admin_password"]
        files = {af.role: af for af in self.p.rendered["bosh"].artifacts}
        stemcell, release = files.get("stemcell.regular"), files.get("release.bosh")
        target_argv = tuple(self.bosh("target", self.microbosh_url()))
        login_argv = tuple(self.bosh("login", "admin", admin))
        deployment_argv = tuple(self.bosh("deployment", str(manifest)))
        deploy_argv = tuple(self.bosh("deploy"))

        def login() -> dict[str, Any]:
            self.runner.run(target_argv, log_name="bosh-target.log")
            self.runner.run(login_argv, log_name="bosh-login.log")
            _, out = self.capture(self.bosh("status", "--uuid"), "bosh-status.log")
            if uuid not in out:
                raise StepError(
                    f"the director at {self.microbosh_url()} is not the MicroBOSH this state dir deployed "
                    f"(expected UUID {uuid}); run 'bosh-install deploy microbosh' again"
                )
            return {}

        def upload(what: str, af: manifests.ArtifactFile) -> Callable[[], dict[str, Any]]:
            def run() -> dict[str, Any]:
                _, out = self.capture(self.bosh(f"{what}s"), f"bosh-{what}s.log", check=False)
                if af.artifact.version in versions_in(parse_table(out), af.artifact.name):
                    log.info("the director already has %s %s %s", what, af.artifact.name, af.artifact.version)
                    return {"uploaded": False}
                argv = self.bosh("upload", what, str(af.path))
                self.runner.run(argv, log_name=f"bosh-upload-{what}.log", on_line=self.progress)
                return {"uploaded": True}

            return run

        def deploy() -> dict[str, Any]:
            code, out = self.capture(deploy_argv, "bosh-deploy.log", check=False, show=True)
            if code == 0:
                return {"task": task_number(out)}
            task = task_number(out)
            where = self.paths.logs / "bosh-deploy.log"
            if task is not None:
                debug_log = f"bosh-task-{task}-debug.log"
                self.runner.run(self.bosh("task", task, "--debug"), log_name=debug_log, check=False)
                raise StepError(
                    f"bosh deploy failed in director task {task}; its debug log is {self.paths.logs / debug_log} "
                    f"(output: {where}). Fix the cause, then run 'bosh-install deploy bosh' again"
                )
            raise StepError(f"bosh deploy failed before the director started a task; see {where}")

        steps = [
            self.verify_step("bosh"),
            Step("bosh.login", {"uuid": uuid}, "bosh target and login to MicroBOSH, check its UUID", login, login_argv),
        ]
        if stemcell is not None:
            argv = tuple(self.bosh("upload", "stemcell", str(stemcell.path)))
            steps.append(
                Step(
                    "bosh.upload-stemcell",
                    {"uuid": uuid, "sha256": stemcell.artifact.sha256},
                    f"upload stemcell {stemcell.artifact.name} {stemcell.artifact.version} unless the director has it",
                    upload("stemcell", stemcell),
                    argv,
                )
            )
        if release is not None:
            argv = tuple(self.bosh("upload", "release", str(release.path)))
            steps.append(
                Step(
                    "bosh.upload-release",
                    {"uuid": uuid, "sha256": release.artifact.sha256},
                    f"upload release {release.artifact.name} {release.artifact.version} unless the director has it",
                    upload("release", release),
                    argv,
                )
            )
        steps += [
            Step(
                "bosh.deployment",
                {"uuid": uuid, "manifest": md},
                "bosh deployment (select the manifest)",
                lambda: self._run(deployment_argv, "bosh-deployment.log"),
                deployment_argv,
            ),
            Step(
                "bosh.deploy",
                {"uuid": uuid, "manifest": md},
                "bosh -n deploy (creates the BOSH VMs)",
                deploy,
                deploy_argv,
            ),
        ]
        return steps

    # -- entry points
    def deploy(self, kind: str, plan_only: bool = False) -> list[StepReport]:
        if not plan_only:
            self.write_manifest(kind)
        steps = self.microbosh_steps() if kind == "microbosh" else self.bosh_steps()
        return run_steps(self.journal, self.runner, steps, plan_only)

    def destroy(self, kind: str) -> None:
        if kind == "microbosh" and self.journal.steps.get("bosh.deploy") is not None:
            raise InputError(
                "BOSH is still deployed by this MicroBOSH; its VMs would be left running: "
                "run 'bosh-install destroy bosh' first"
            )
        if kind == "microbosh":
            manifest = self.write_manifest("microbosh")
            self.run_bosh_init([self.tools.bosh_init, "delete", str(manifest)], "bosh-init-delete.log")
            prefix = "microbosh."
        else:
            self.runner.run(self.bosh("target", self.microbosh_url()), log_name="bosh-target.log")
            admin = self.p.secrets["microbosh"]["admin_password"]
            self.runner.run(self.bosh("login", "admin", admin), log_name="bosh-login.log")
            argv = self.bosh("delete", "deployment", self.p.site.name)
            self.runner.run(argv, log_name="bosh-delete.log", on_line=self.progress)
            prefix = "bosh."
        for name in [n for n in self.journal.steps if n.startswith(prefix)]:
            self.journal.forget(name)
