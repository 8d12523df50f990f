"""The installer's state directory: the one place that knows its layout.

Default ``/var/lib/bosh-offline`` (``ROOT/var/lib/bosh-offline`` for ``install --root ROOT``), or
``--state-dir``.  The install and deploy commands share it::

    journal.json                    the journal of install and deploy steps (``installer.journal``)
    lock                            held by the run in progress, holds its PID (``installer.statelock``)
    payload.json                    path -> sha256 of what ``payload/`` holds (upgrades extract the rest)
    ruby-lines.json                 the last Ruby build's output line counts (its progress estimate)
    logs/                           one log per command; install.log, bosh-init.log (BOSH_INIT_LOG_PATH),
                                    bosh-task-N-debug.log after a failed bosh deploy
    payload/                        the extracted payload (deploy: or ``--payload``); a killed extraction
                                    leaves ``.payload.*.staging`` beside it
    build/                          the Ruby build tree, removed after the build (kept when killed:
                                    ``build/.configured`` lets the rerun resume with make)
    deploy/microbosh.yml, bosh.yml  rendered manifests (0600)
    deploy/microbosh-state.json     bosh-init's state, written beside its manifest
    microbosh-state.json (.prev)    the copy kept after every bosh-init run (needed to update or delete
                                    MicroBOSH; restored if the first is lost)
    bosh_config                     the bosh CLI's config (target, login), not ~/.bosh_config
    installed.json                  the serial of the last bundle installed (a lower one is refused)

Imports only the project's error types.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from bundler.core.errors import InputError

DEFAULT_STATE_DIR = Path("/var/lib/bosh-offline")


@dataclass(frozen=True)
class StateDir:
    """The state directory at ``path``; ``payload`` defaults to ``path/payload``."""

    path: Path
    payload: Path = None  # type: ignore[assignment]  # set in __post_init__

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        payload = Path(self.payload) if self.payload is not None else self.path / "payload"
        object.__setattr__(self, "payload", payload)

    @classmethod
    def for_root(cls, root: Path, chroot: bool, state_dir: Path | None) -> StateDir:
        """``--state-dir`` or ROOT/var/lib/bosh-offline; with ``--root`` it must be inside the root."""
        chosen = Path(state_dir).absolute() if state_dir else root / DEFAULT_STATE_DIR.relative_to("/")
        if chroot and root.resolve() not in (chosen.resolve(), *chosen.resolve().parents):
            raise InputError(
                f"--state-dir {chosen} is outside --root {root}: commands run inside the root must see the "
                "extracted files; leave --state-dir out or put it under the root"
            )
        return cls(chosen)

    @property
    def installed(self) -> Path:
        return self.path / "installed.json"

    def installed_serial(self) -> int | None:
        """The serial of the last bundle installed here, None when none was recorded."""
        try:
            data = json.loads(self.installed.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise InputError(
                f"{self.installed}: unreadable ({exc}); remove it only if no bundle was installed"
            ) from None
        serial = data.get("serial") if isinstance(data, dict) else None
        if not isinstance(serial, int):
            raise InputError(f"{self.installed}: no serial in it; remove it only if no bundle was installed")
        return serial

    def record_serial(self, serial: int, spec: str) -> None:
        """Record ``serial`` as installed (atomically, 0600)."""
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.installed.with_name(self.installed.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"serial": serial, "spec": spec}, fh)
            fh.write("\n")
        os.replace(tmp, self.installed)

    @property
    def journal(self) -> Path:
        return self.path / "journal.json"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def build(self) -> Path:
        return self.path / "build"

    def stale_staging(self) -> list[Path]:
        """Staging directories a killed extraction left beside the payload."""
        return sorted(self.payload.parent.glob(f".{self.payload.name}.*.staging"))

    @property
    def manifests(self) -> Path:
        return self.path / "deploy"

    def manifest(self, kind: str) -> Path:
        return self.manifests / f"{kind}.yml"

    @property
    def bosh_config(self) -> Path:
        return self.path / "bosh_config"

    def bosh_init_state(self) -> Path:
        return self.manifests / "microbosh-state.json"

    def saved_state(self) -> Path:
        return self.path / "microbosh-state.json"
