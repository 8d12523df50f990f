"""What every install step is given: the bundle, its lock, where to install, where to keep state.

``InstallContext`` is built once by the ``install``/``plan`` commands.  ``root`` is the filesystem the
toolchain goes into (``/``, or a chroot directory with ``--root``); commands run inside it through the
``Runner``.  The state directory (journal, logs, extracted payload, Ruby build tree) lives inside the
root so that commands in the chroot see the files: ``inside(path)`` gives a host path as the chroot
sees it.  ``say`` reports progress to the operator (the CLI decides how to show it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bundler.core.errors import InputError
from bundler.core.lock import Lock
from installer.journal import Journal
from installer.process import Runner

log = logging.getLogger(__name__)
DEFAULT_STATE_DIR = "var/lib/bosh-offline"


@dataclass
class InstallContext:
    bundle: Path
    lock: Lock
    root: Path  # "/" or the --root directory
    chroot: bool  # True with --root: run commands through chroot
    state_dir: Path  # host path, inside root
    dry_run: bool = False
    jobs: int = 2
    password: str | None = None  # of an encrypted payload
    say: Callable[[str], None] = field(default=lambda message: log.info("%s", message))

    @property
    def payload_dir(self) -> Path:
        return self.state_dir / "payload"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def build_dir(self) -> Path:
        return self.state_dir / "build"

    def runner(self) -> Runner:
        return Runner(self.log_dir, root=self.root if self.chroot else None, dry_run=self.dry_run)

    def journal(self) -> Journal:
        return Journal.open(self.state_dir)

    def inside(self, path: Path) -> str:
        """``path`` (a host path under ``root``) as commands inside the root see it."""
        if not self.chroot:
            return str(path)
        return "/" + Path(path).resolve().relative_to(self.root.resolve()).as_posix()

    def host(self, inner: str) -> Path:
        """An absolute path inside the root, as a host path."""
        return self.root / inner.lstrip("/")


def state_dir_for(root: Path, chroot: bool, state_dir: Path | None) -> Path:
    """The state directory: ``--state-dir`` or ROOT/var/lib/bosh-offline; must be inside the root."""
    chosen = Path(state_dir).absolute() if state_dir else root / DEFAULT_STATE_DIR
    if chroot and root.resolve() not in (chosen.resolve(), *chosen.resolve().parents):
        raise InputError(
            f"--state-dir {chosen} is outside --root {root}: commands run inside the root must see the "
            "extracted files; leave --state-dir out or put it under the root"
        )
    return chosen
