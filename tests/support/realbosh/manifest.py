"""The project's own MicroBOSH manifest, rendered by ``bosh-install manifests render`` from the deploy
fixture (tests/support/deployfixtures: the guide's site values), with real artifacts in it.

The fixture's payload holds placeholder files, so after rendering the two releases and the stemcell
are pointed (``file://`` URL and sha1) at real tarballs: the ``bosh`` release and the test CPI
(named ``bosh-aws-cpi``) made by the real ``bosh create-release``, and a real-format light stemcell
(tests/support/boshfixtures).  Everything else is exactly what the project renders.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from installer.cli import main as install_main
from tests.support.boshfixtures import HVM, BuiltStemcell, write_stemcell
from tests.support.deployfixtures import GUIDE_SITE, DeployFixture, make_fixture
from tests.support.paths import REPO


@dataclass(frozen=True)
class Site:
    """A deploy fixture (site file, lock, payload of placeholders) and the state directory to use."""

    fixture: DeployFixture
    state_dir: Path

    def cli_args(self) -> list[str]:
        fx = self.fixture
        return ["--site", str(fx.site_path), "--lock", str(fx.lock_path), "--payload", str(fx.payload),
                "--state-dir", str(self.state_dir), "--only", "microbosh"]  # fmt: skip


@dataclass(frozen=True)
class Rendered:
    site: Site
    manifest: dict  # as bosh-install rendered it


def site(root: Path, site_text: str = GUIDE_SITE) -> Site:
    return Site(make_fixture(root / "site", site_text), root / "state")


def render(root: Path, site_text: str = GUIDE_SITE) -> Rendered:
    """``bosh-install manifests render --only microbosh`` on a deploy fixture made in ``root``."""
    made = site(root, site_text)
    out = root / "out"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = install_main(["manifests", "render", *made.cli_args(), "--out", str(out)])
    if code != 0:
        raise RuntimeError(f"bosh-install manifests render exited {code}: {stderr.getvalue()}")
    return Rendered(made, yaml.safe_load((out / "microbosh.yml").read_text()))


def check(made: Site) -> subprocess.CompletedProcess:
    """``python3 -m installer manifests check`` on a fixture's site (a subprocess)."""
    return subprocess.run(
        [sys.executable, "-m", "installer", "manifests", "check", *made.cli_args()],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def light_stemcell(dest: Path) -> BuiltStemcell:
    """A real-format light AWS stemcell (empty image, an AMI for us-east-1)."""
    return write_stemcell(dest, HVM, "3147", light=True, ami={"us-east-1": "ami-e62f158c"})


def with_artifacts(manifest: dict, releases: dict[str, Path], stemcell: Path) -> dict:
    """A copy of ``manifest`` whose releases (by name) and first stemcell are these files."""
    doc = copy.deepcopy(manifest)
    for release in doc["releases"]:
        path = releases[release["name"]]
        release.update(url=f"file://{path}", sha1=_sha1(path))
    doc["resource_pools"][0]["stemcell"].update(url=f"file://{stemcell}", sha1=_sha1(stemcell))
    return doc
