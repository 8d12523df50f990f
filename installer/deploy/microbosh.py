"""The steps of ``deploy microbosh`` and of ``destroy microbosh``.

deploy:  ``microbosh.verify`` (release and stemcell files against the lock) → ``microbosh.bosh-init``
         (``bosh-init deploy``: creates the MicroBOSH VM) → ``microbosh.target`` (``bosh target``) →
         ``microbosh.login`` (``bosh login admin``) → ``microbosh.uuid`` (``bosh status --uuid``: the
         director UUID, recorded in the journal for the BOSH manifest)
destroy: ``bosh-init delete``

Every deploy step's inputs include the rendered manifest's digest: a changed manifest deploys again.

Imports the prepared deploy, the bosh-init and bosh CLI drivers and the step runner's ``Step``.
"""

from __future__ import annotations

from typing import Any

from installer.deploy.boshcli import BoshCli, uuids_in
from installer.deploy.boshinit import BoshInit
from installer.deploy.prepared import Prepared
from installer.process import StepError
from installer.steprunner import Step


def steps(p: Prepared, init: BoshInit, cli: BoshCli) -> list[Step]:
    md = {"manifest": p.manifest_digest("microbosh")}
    target_argv = cli.argv("target", p.director_url())
    login_argv = cli.argv("login", "admin", p.admin_password)
    uuid_argv = cli.argv("status", "--uuid")

    def bosh_init() -> dict[str, Any]:
        init.run("deploy", "bosh-init-deploy.log")
        return {"state": str(p.state.saved_state())}

    def uuid() -> dict[str, Any]:
        _, out = cli.capture(uuid_argv, "bosh-status.log")
        found = uuids_in(out)
        if not found:
            raise StepError(f"bosh status --uuid printed no UUID; see {p.state.logs / 'bosh-status.log'}")
        return {"uuid": found[-1], "url": p.director_url()}

    return [
        p.verify_step("microbosh"),
        Step("microbosh.bosh-init", md, bosh_init, "bosh-init deploy (creates the MicroBOSH VM)", init.argv("deploy")),
        Step(
            "microbosh.target",
            md,
            lambda: cli.run(target_argv, "bosh-target.log"),
            "bosh target MicroBOSH",
            target_argv,
        ),
        Step("microbosh.login", md, lambda: cli.run(login_argv, "bosh-login.log"), "bosh login as admin", login_argv),
        Step("microbosh.uuid", md, uuid, "read the director UUID", uuid_argv),
    ]


def destroy(p: Prepared, init: BoshInit) -> None:
    """``bosh-init delete`` with the current manifest (the VM, its disk, its elastic IP binding)."""
    p.write_manifest("microbosh")
    init.run("delete", "bosh-init-delete.log")
