"""Running the real ``bosh-init deploy|delete`` (and the v7 CLI's ``create-env``) on a manifest, offline,
with the test CPI, and reading what happened.

Each run gets its own directory: the manifest is written there as ``microbosh.yml`` (so its state
file is ``microbosh-state.json`` beside it), HOME is ``DIR/home`` and the test CPI's state directory
``DIR/cpi``.  ``Outcome.reached_cpi`` is the line between refusing and accepting: bosh-init validates
the manifest, the releases and the stemcell, compiles the CPI packages and renders its templates
before its first CPI call (``create_stemcell``; the v7 CLI calls ``info`` first), so a manifest it
accepts is one that got the test CPI called.
"""

from __future__ import annotations

import copy
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.paths import STANDINS
from tests.support.realbosh import testcpi
from tests.support.realbosh.tools import RealTools, run_tool, tool_env

MANIFEST_NAME = "microbosh.yml"


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    workdir: Path | None = None

    @property
    def reached_cpi(self) -> bool:
        return bool(self.calls)

    @property
    def refused(self) -> bool:
        """It stopped before any CPI call (validation, releases, stemcell, CPI install)."""
        return self.returncode != 0 and not self.calls

    @property
    def stopped_at_create_stemcell(self) -> bool:
        methods = [c["method"] for c in self.calls]
        return self.returncode != 0 and methods[-1:] == ["create_stemcell"] and testcpi.STEMCELL_ERROR in self.stderr

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def errors(self) -> str:
        """stderr, plus the ERROR lines of bosh-init's debug log (where a panic goes: exit 2, empty stderr)."""
        log = self.workdir / "bosh-init.log" if self.workdir else None
        lines = log.read_text(errors="replace").splitlines() if log and log.exists() else []
        return self.stderr + "".join(line + "\n" for line in lines if " ERROR - " in line)

    @property
    def state_file(self) -> Path:
        return self.workdir / MANIFEST_NAME.replace(".yml", "-state.json")


def write_manifest(manifest: Any, workdir: Path, *, state_dir: Path | None = None) -> Path:
    """Write ``manifest`` (a dict, or YAML text as is) to DIR/microbosh.yml, pointing its CPI at state_dir."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / MANIFEST_NAME
    if isinstance(manifest, str):
        path.write_text(manifest)
        return path
    doc = copy.deepcopy(manifest)
    if isinstance(doc, dict):
        testcpi.use_state_dir(doc, state_dir or workdir / "cpi")
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run(argv: list[Any], workdir: Path, *, timeout: float = 120, env: dict[str, str] | None = None) -> Outcome:
    """One invocation in ``workdir`` (HOME=workdir/home, offline, bosh-init's debug log in
    workdir/bosh-init.log, ``env`` added), with the test CPI's calls."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = {"BOSH_INIT_LOG_LEVEL": "debug", "BOSH_INIT_LOG_PATH": str(workdir / "bosh-init.log")}
    env = tool_env(workdir / "home", **log, **(env or {}))
    try:
        proc = run_tool(argv, home=workdir / "home", cwd=workdir, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        return Outcome(
            -1, str(exc.stdout or ""), f"timed out after {timeout} s", testcpi.calls(workdir / "cpi"), workdir
        )
    return Outcome(proc.returncode, proc.stdout, proc.stderr, testcpi.calls(workdir / "cpi"), workdir)


def bosh_init(tools: RealTools, command: str, manifest: Any, workdir: Path) -> Outcome:
    """``bosh-init COMMAND DIR/microbosh.yml`` for ``manifest`` (dict or YAML text)."""
    path = write_manifest(manifest, workdir)
    return run([tools.bosh_init, command, path], workdir)


def create_env(tools: RealTools, manifest: Any, workdir: Path) -> Outcome:
    """``bosh create-env DIR/microbosh.yml --state DIR/microbosh-state.json`` (the v7 CLI's deployer)."""
    path = write_manifest(manifest, workdir)
    return run([tools.bosh, "-n", "create-env", path, "--state", workdir / "microbosh-state.json"], workdir)


def standin(argv: list[Any], workdir: Path, *, fail: str = "bosh-init-deploy") -> Outcome:
    """The stand-in bosh-init (tests/support/standins) with the same arguments, in its own ``workdir``;
    ``fail`` (BOSH_STANDIN_FAIL) makes its deploy fail after validation, as a CPI error does."""
    env = {"BOSH_STANDIN_STATE": str(workdir / "standin-state"), "BOSH_STANDIN_FAIL": fail}
    return run([STANDINS / "bosh-init", *argv], workdir, env=env)


def standin_deploy(manifest: Any, workdir: Path) -> Outcome:
    return standin(["deploy", write_manifest(manifest, workdir)], workdir)
