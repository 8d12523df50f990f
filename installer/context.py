"""What every install step is given: the bundle, its lock, where to install, where to keep state.

``InstallContext`` is built once by the ``install``/``plan`` commands.  ``root`` is the filesystem the
toolchain goes into (``/``, or a chroot directory with ``--root``); commands run inside it through the
``Runner``.  The state directory (``installer.state``: journal, logs, extracted payload, Ruby build
tree) lives inside the root so that commands in the chroot see the files: ``inside(path)`` gives a
host path as the chroot sees it.  ``say`` reports progress to the operator (the CLI decides how to
show it), and ``counter`` draws a step's phase on a terminal (``bundler.core.progress``).

Imports the lock, the progress bars, the state directory's layout and the process runner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bundler.core.lock import Lock
from bundler.core.progress import NO_PROGRESS, NullCounter, TermProgress, counter
from installer.process import Runner
from installer.state import StateDir

log = logging.getLogger(__name__)


@dataclass
class InstallContext:
    bundle: Path
    lock: Lock
    root: Path  # "/" or the --root directory
    chroot: bool  # True with --root: run commands through chroot
    state: StateDir  # host paths, inside root
    dry_run: bool = False
    jobs: int = 2
    password: str | None = None  # of an encrypted payload
    say: Callable[[str], None] = field(default=lambda message: log.info("%s", message))
    progress: TermProgress = NO_PROGRESS  # bars on a terminal (the CLI decides)
    changed: str = ""  # what was changed before this run's steps (install.sh: the installer's runtime debs)

    def counter(self, phase: str, total: int, unit: str) -> NullCounter:
        """A progress counter for a step's phase (packages n of N, gems n of N, build lines)."""
        return counter(self.progress, phase, total, unit)

    def runner(self) -> Runner:
        return Runner(self.state.logs, root=self.root if self.chroot else None, dry_run=self.dry_run)

    def inside(self, path: Path) -> str:
        """``path`` (a host path under ``root``) as commands inside the root see it."""
        if not self.chroot:
            return str(path)
        return "/" + Path(path).resolve().relative_to(self.root.resolve()).as_posix()

    def host(self, inner: str) -> Path:
        """An absolute path inside the root, as a host path."""
        return self.root / inner.lstrip("/")
