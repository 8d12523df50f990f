"""The steps of ``deploy bosh`` and of ``destroy bosh``, through MicroBOSH with the bosh v1 CLI.

deploy:  ``bosh.verify`` (release and stemcell files against the lock) → ``bosh.login`` (target,
         login, and the director's UUID must be the one this state dir deployed) →
         ``bosh.upload-stemcell`` → ``bosh.upload-release`` (each skipped when the director has that
         version) → ``bosh.deployment`` (select the manifest) → ``bosh.deploy`` (``bosh -n deploy``;
         on failure ``bosh task N --debug`` goes into ``STATE/logs/bosh-task-N-debug.log``)
destroy: target, login, ``bosh delete deployment NAME``

Imports the prepared deploy, the bosh CLI driver, the manifests' artifact files and the step
runner's ``Step``.
"""

from __future__ import annotations

import logging
from typing import Any

from installer.deploy.boshcli import BoshCli, parse_table, task_number, versions_in
from installer.deploy.prepared import Prepared
from installer.manifests.render import ArtifactFile
from installer.process import StepError
from installer.steprunner import Step

log = logging.getLogger(__name__)


def login_step(p: Prepared, cli: BoshCli, uuid: str) -> Step:
    target_argv = cli.argv("target", p.director_url())
    login_argv = cli.login_argv()

    def run() -> dict[str, Any]:
        cli.run(target_argv, "bosh-target.log")
        cli.login(p.admin_password)
        _, out = cli.capture(cli.argv("status", "--uuid"), "bosh-status.log")
        if uuid not in out:
            raise StepError(
                f"the director at {p.director_url()} is not the MicroBOSH this state dir deployed "
                f"(expected UUID {uuid}); run 'bosh-install deploy microbosh' again"
            )
        return {}

    return Step("bosh.login", {"uuid": uuid}, run, "bosh target and login to MicroBOSH, check its UUID", login_argv)


def upload_step(cli: BoshCli, what: str, af: ArtifactFile, uuid: str) -> Step:
    """``bosh upload stemcell|release FILE`` unless the director lists that version already."""
    argv = cli.argv("upload", what, str(af.path))

    def run() -> dict[str, Any]:
        _, out = cli.capture(cli.argv(f"{what}s"), f"bosh-{what}s.log", check=False)
        if af.artifact.version in versions_in(parse_table(out), af.artifact.name):
            log.info("the director already has %s %s %s", what, af.artifact.name, af.artifact.version)
            return {"uploaded": False}
        cli.run(argv, f"bosh-upload-{what}.log", show=True)
        return {"uploaded": True}

    describe = f"upload {what} {af.artifact.name} {af.artifact.version} unless the director has it"
    return Step(f"bosh.upload-{what}", {"uuid": uuid, "sha256": af.artifact.sha256}, run, describe, argv)


def deploy_step(p: Prepared, cli: BoshCli, inputs: dict[str, Any]) -> Step:
    """``bosh -n deploy``; when a director task fails, its debug log is fetched and named."""
    argv = cli.argv("deploy")

    def run() -> dict[str, Any]:
        code, out = cli.capture(argv, "bosh-deploy.log", check=False, show=True)
        task = task_number(out)
        if code == 0:
            return {"task": task}
        where = p.state.logs / "bosh-deploy.log"
        if task is None:
            raise StepError(f"bosh deploy failed before the director started a task; see {where}")
        debug_log = f"bosh-task-{task}-debug.log"
        cli.runner.run(cli.argv("task", task, "--debug"), log_name=debug_log, check=False)
        raise StepError(
            f"bosh deploy failed in director task {task}; its debug log is {p.state.logs / debug_log} "
            f"(output: {where}). Fix the cause, then run 'bosh-install deploy bosh' again"
        )

    return Step("bosh.deploy", inputs, run, "bosh -n deploy (creates the BOSH VMs)", argv)


def steps(p: Prepared, cli: BoshCli) -> list[Step]:
    uuid = p.rendered["bosh"].manifest.get("director_uuid")
    files = {af.role: af for af in p.rendered["bosh"].artifacts}
    manifest = {"uuid": uuid, "manifest": p.manifest_digest("bosh")}
    deployment_argv = cli.argv("deployment", str(p.state.manifest("bosh")))
    out = [p.verify_step("bosh"), login_step(p, cli, uuid)]
    for what, role in (("stemcell", "stemcell.regular"), ("release", "release.bosh")):
        if files.get(role) is not None:
            out.append(upload_step(cli, what, files[role], uuid))
    out += [
        Step(
            "bosh.deployment",
            manifest,
            lambda: cli.run(deployment_argv, "bosh-deployment.log"),
            "bosh deployment (select the manifest)",
            deployment_argv,
        ),
        deploy_step(p, cli, manifest),
    ]
    return out


def destroy(p: Prepared, cli: BoshCli) -> None:
    """``bosh delete deployment NAME`` (after target and login): the BOSH VMs and their disks."""
    cli.run(cli.argv("target", p.director_url()), "bosh-target.log")
    cli.login(p.admin_password)
    cli.run(cli.argv("delete", "deployment", p.site.name), "bosh-delete.log", show=True)
