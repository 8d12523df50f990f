"""The steps of ``deploy microbosh`` and of ``destroy microbosh``.

deploy:  ``microbosh.verify`` (release and stemcell files against the lock) → ``microbosh.bosh-init``
         (``bosh-init deploy``: creates the MicroBOSH VM) → ``microbosh.target`` (``bosh target``) →
         ``microbosh.login`` (``bosh login admin``) → ``microbosh.uuid`` (``bosh status --uuid``: the
         director UUID, recorded in the journal for the BOSH manifest)
destroy: ``bosh-init delete``, reported as what it did (``Destroyed``): what bosh-init's state file
         recorded (the VM, disks, stemcells it deleted), nothing when there was no state file (bosh-init
         then says "No deployment state file found." and exits 0), and refused before bosh-init runs
         when the journal records a finished ``bosh-init deploy`` but its state file is gone (the VM
         would be left running, and forgotten).

Every deploy step's inputs include the rendered manifest's digest: a changed manifest deploys again.

Imports the prepared deploy, the bosh-init and bosh CLI drivers and the step runner's ``Step``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installer.deploy.boshcli import BoshCli, uuids_in
from installer.deploy.boshinit import BoshInit, Deployed
from installer.deploy.prepared import Prepared
from installer.journal import StepRecord
from installer.process import StepError
from installer.steprunner import Step


def steps(p: Prepared, init: BoshInit, cli: BoshCli) -> list[Step]:
    md = {"manifest": p.manifest_digest("microbosh")}
    target_argv = cli.argv("target", p.director_url())
    login_argv = cli.login_argv()
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
        Step("microbosh.login", md, lambda: cli.login(p.admin_password), "bosh login as admin", login_argv),
        Step("microbosh.uuid", md, uuid, "read the director UUID", uuid_argv),
    ]


@dataclass(frozen=True)
class Destroyed:
    """What ``bosh-init delete`` did: ``deployed`` is what its state file recorded before (None: there
    was no state file, and it deleted nothing)."""

    state_file: Path
    deployed: Deployed | None

    @property
    def deleted_nothing(self) -> bool:
        return self.deployed is None

    def describe(self) -> str:
        if self.deployed is None:
            return (
                "nothing deleted: MicroBOSH is not deployed from this state directory "
                f"(bosh-init found no state file; its copy would be {self.state_file})"
            )
        gone = f"bosh-init removed its state file (its last copy: {self.state_file}.prev)"
        if self.deployed.nothing:
            return (
                "nothing was deployed: bosh-init's state recorded no VM, disk or stemcell "
                f"(its last deploy stopped before creating one); {gone}"
            )
        return f"deleted MicroBOSH: {self.deployed.describe()}; {gone}"


def destroy(p: Prepared, init: BoshInit, deployed_step: StepRecord | None) -> Destroyed:
    """``bosh-init delete`` with the current manifest (the VM, its disk, its elastic IP binding).

    ``deployed_step`` is the journal's record of ``microbosh.bosh-init``: when it is done and the state
    file is gone, nothing runs (StepError: bosh-init would delete nothing, and say it succeeded)."""
    p.write_manifest("microbosh")
    before = init.deployed()
    saved = p.state.saved_state()
    if before is None and deployed_step is not None and deployed_step.state == "done":
        raise StepError(
            f"bosh-init's state file is gone ({p.state.bosh_init_state()}, and its copy {saved}), but the journal "
            "records a finished 'bosh-init deploy' (step microbosh.bosh-init): without it bosh-init deletes "
            f"nothing and the MicroBOSH VM keeps running; put the state file back at {saved} (a backup, or "
            f"{saved.name}.prev) and run destroy again, or delete the VM and its disk in the AWS console"
        )
    init.run("delete", "bosh-init-delete.log")
    return Destroyed(saved, before)
