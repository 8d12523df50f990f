"""What every resolver is given while locking: the HTTP client, the cache, and a place for warnings.

Resolvers read upstream indexes through ``ctx.http`` (mirrors applied), may keep parsed indexes under
``ctx.cache``, and report what the user must know (an artifact trusted on first download) with
``ctx.warn``.  Imports only the network layer and ``bundler.core.progress``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from bundler.core.progress import NO_PROGRESS, TermProgress
from bundler.net.http import Http

log = logging.getLogger(__name__)


@dataclass
class LockContext:
    http: Http
    cache: Path
    warnings: list[str] = field(default_factory=list)
    progress: TermProgress = NO_PROGRESS  # bars for the downloads locking must make

    def warn(self, message: str) -> None:
        """Something the user must know; the CLI's log handler prints it as a warning."""
        self.warnings.append(message)
        log.warning("%s", message)
