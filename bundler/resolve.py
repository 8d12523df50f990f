"""Turning a spec into a lock: each spec section is resolved by its source module.

Every resolver has the signature ``resolve(spec: Spec, ctx: LockContext) -> LockPart`` and lives in
the module named in ``RESOLVERS``; a section that is absent from the spec is skipped.  Resolvers
read upstream indexes through ``ctx.http`` (mirrors applied), may keep parsed indexes under
``ctx.cache``, and report things the user must know (an artifact trusted on first download) with
``ctx.warn``, which logs at warning level (always shown).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bundler.errors import BundleError
from bundler.http import Http
from bundler.lock import Lock, LockPart, assemble
from bundler.spec import Spec

log = logging.getLogger(__name__)

# spec attribute -> "module:function"; order is the order of resolution (debs may add runtime debs)
RESOLVERS: tuple[tuple[str, str], ...] = (
    ("debs", "bundler.sources.debs:resolve"),
    ("ruby", "bundler.sources.ruby:resolve"),
    ("gems", "bundler.sources.gems:resolve"),
    ("releases", "bundler.sources.bosh:resolve_releases"),
    ("stemcells", "bundler.sources.bosh:resolve_stemcells"),
    ("binaries", "bundler.sources.files:resolve_binaries"),
    ("runtime", "bundler.runtime:resolve"),
)


@dataclass
class LockContext:
    http: Http
    cache: Path
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        """Something the user must know; the CLI's log handler prints it as a warning."""
        self.warnings.append(message)
        log.warning("%s", message)


def _load(target: str) -> Callable[[Spec, LockContext], LockPart]:
    module_name, _, func = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise BundleError(f"this version of bosh-bundle cannot resolve {module_name} yet") from None
    return getattr(module, func)


def resolve_spec(spec: Spec, ctx: LockContext) -> Lock:
    parts = []
    for attr, target in RESOLVERS:
        if getattr(spec, attr):
            log.info("resolving %s", attr)
            parts.append(_load(target)(spec, ctx))
    target = {
        "os": spec.target.os,
        "release": spec.target.release,
        "codename": spec.target.codename,
        "arch": spec.target.arch,
    }
    return assemble(spec.name, target, parts)
