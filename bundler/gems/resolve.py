"""The ``gems`` section of a spec locked: every gem of the resolved closure as a lock entry.

``resolve(spec, ctx)`` (the entry point ``bundler.resolve`` calls) resolves the spec's gem
requirements for its target Ruby, RubyGems and platforms (``provider.resolve_gems`` over a
``CompactIndex``) and turns the chosen releases into lock entries: kind ``gem``, path
``gems/NAME-VERSION[-PLATFORM].gem``, sha256 from the info line (trust ``compact-index``), size
from a HEAD of the gem URL (remembered per sha256), and in ``meta`` the platform, the runtime
dependency edges and the ``required_ruby_version``/``required_rubygems_version``; the section
records the source, the target and the install order.  The check of a downloaded ``.gem``
against its entry is ``bundler.core.gem.metadata``.

Imports ``bundler.core``, ``bundler.gems`` and ``bundler.net``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bundler.core.errors import FetchError
from bundler.core.gem.version import Version
from bundler.core.lock import Artifact, LockPart
from bundler.gems.compactindex import CompactIndex
from bundler.gems.provider import Resolved, RubyTarget, resolve_gems
from bundler.net.cache import index_dir
from bundler.net.http import Http

TRUST = "compact-index"


def _gem_size(http: Http, url: str, sha256: str, cache_dir: Path | None) -> int:
    """The size of a .gem (the compact index does not give it): a HEAD request, remembered."""
    remembered = cache_dir / "sizes" / sha256 if cache_dir is not None else None
    if remembered is not None and remembered.is_file():
        return int(remembered.read_text())
    status, headers = http.head(url)
    length = headers.get("Content-Length")
    if status != 200 or length is None or not length.isdigit():
        raise FetchError(f"HEAD {url}: HTTP {status}, no size (is the gem on the source?)")
    if remembered is not None:
        remembered.parent.mkdir(parents=True, exist_ok=True)
        remembered.write_text(length)
    return int(length)


def lock_artifacts(index: CompactIndex, resolved: Resolved) -> list[Artifact]:
    cache = index.cache_dir
    with ThreadPoolExecutor(8) as pool:
        sizes = list(pool.map(lambda e: _gem_size(index.http, index.gem_url(e), e.sha256, cache), resolved.gems))
    artifacts = []
    for e, size in zip(resolved.gems, sizes, strict=True):
        meta = {
            "platform": e.platform,
            "dependencies": [[n, str(r)] for n, r in sorted(e.dependencies, key=lambda d: d[0])],
            "required_ruby_version": str(e.ruby) if e.ruby else ">= 0",
            "required_rubygems_version": str(e.rubygems) if e.rubygems else ">= 0",
        }
        artifacts.append(
            Artifact("gem", e.name, str(e.version), index.gem_url(e), size, e.sha256, TRUST, f"gems/{e.filename}", meta)
        )
    return artifacts


def resolve(spec: Any, ctx: Any) -> LockPart:
    """The ``gems`` section of the spec -> lock entries for every gem of the closure."""
    gs = spec.gems
    index = CompactIndex(ctx.http, gs.source, index_dir(ctx.cache, "gems"))
    target = RubyTarget(Version(gs.ruby), Version(gs.rubygems), tuple(gs.platforms))
    resolved = resolve_gems(index, gs.requirements, target, labels=dict(gs.where))
    section = {
        "source": index.source,
        "ruby": gs.ruby,
        "rubygems": gs.rubygems,
        "platforms": list(gs.platforms),
        "requested": sorted(n for n, _ in gs.requirements),
        "install_order": [f"gems/{e.filename}" for n in resolved.install_order for e in resolved.gems if e.name == n],
    }
    return LockPart(tuple(lock_artifacts(index, resolved)), "gems", section)
