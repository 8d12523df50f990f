"""Turning a spec into a lock: each spec section is resolved by its source module.

Every resolver has the signature ``resolve(spec: Spec, ctx: LockContext) -> LockPart``; ``resolvers()``
lists them in the order they run (debs first: it may add the runtime's debs); a section that is absent
from the spec is skipped.  What a resolver is given is ``bundler.lockcontext.LockContext``.

Imports the resolvers (``bundler.debs``, ``bundler.gems``, ``bundler.boshio``, ``bundler.ruby``,
``bundler.binaries``, ``bundler.runtime``, ``bundler.director``), ``bundler.core.lock`` and the spec.
The assembled lock is refused when a release it holds was compiled for a stemcell other than those
it holds (``bundler.core.bosh.compiled``, read from the releases the resolvers downloaded): bosh
would find that only at deploy time, across the gap; build and verify check it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bundler import binaries, runtime
from bundler import ruby as ruby_source
from bundler.boshio.resolve import resolve_releases, resolve_stemcells
from bundler.core.bosh import compiled
from bundler.core.errors import IntegrityError
from bundler.core.lock import Lock, LockPart, assemble
from bundler.debs.resolve import resolve as resolve_debs
from bundler.director.resolve import resolve as resolve_director
from bundler.gems.resolve import resolve as resolve_gems
from bundler.lockcontext import LockContext
from bundler.net.cache import artifact_path
from bundler.spec import Spec

log = logging.getLogger(__name__)


def resolvers() -> tuple[tuple[str, Callable[[Spec, LockContext], LockPart]], ...]:
    """(spec attribute, resolver) in the order of resolution."""
    return (
        ("debs", resolve_debs),
        ("ruby", ruby_source.resolve),
        ("gems", resolve_gems),
        ("releases", resolve_releases),
        ("stemcells", resolve_stemcells),
        ("binaries", binaries.resolve_binaries),
        ("director", resolve_director),
        ("runtime", runtime.resolve),
    )


def resolve_spec(spec: Spec, ctx: LockContext) -> Lock:
    parts = []
    for attr, resolver in resolvers():
        if getattr(spec, attr):
            log.info("resolving %s", attr)
            parts.append(resolver(spec, ctx))
    target = {
        "os": spec.target.os,
        "release": spec.target.release,
        "codename": spec.target.codename,
        "arch": spec.target.arch,
    }
    lock = assemble(spec.name, target, parts)
    downloaded = {a.path: artifact_path(ctx.cache, a.sha256) for a in lock.by_kind("release")}
    problems = compiled.bundle_problems(lock, {k: v for k, v in downloaded.items() if v.is_file()})
    if problems:
        raise IntegrityError("; ".join(str(p) for p in problems) + " — refusing to lock them")
    return lock
