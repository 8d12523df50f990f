"""BOSH releases and stemcells resolved through bosh.io into lock entries.

A spec entry either pins ``url`` + ``sha1``/``sha256`` (trust ``pinned``) or names ``version`` (or
``latest``) looked up in the bosh.io JSON API at ``spec.bosh_io_url`` (trust ``bosh-io``; a sha1 the
spec pins as well must agree, and the trust is then ``pinned``).  bosh.io publishes only a sha1 for
most releases, so the tarball is downloaded once while locking (see ``lockfetch``), its sha1 checked
as it streams, its sha256 computed in the same pass and its contents checked too
(``bundler.core.bosh.check``, the same check build and verify run): a wrong file is refused before
it can enter a lock.  A light stemcell's AMI map is read from its ``stemcell.MF`` into the lock
(``meta["ami"]``) so the installer can refuse a region it has no AMI for.  ``resolve_releases`` and
``resolve_stemcells`` are the entry points ``bundler.resolve`` calls; ``Candidate`` and
``download_and_inspect`` serve ``bundler.director.resolve`` too (the tarballs bosh-deployment names).

Imports ``bundler.core``, ``bundler.net.lockfetch`` and ``bundler.spec``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bundler.core.bosh.check import inspect_chunks
from bundler.core.errors import BundleError, IntegrityError, ResolutionError
from bundler.core.lock import Artifact, LockPart
from bundler.net import lockfetch
from bundler.spec import ReleaseSpec, Spec, StemcellSpec

if TYPE_CHECKING:
    from bundler.lockcontext import LockContext

log = logging.getLogger(__name__)

__all__ = ["Candidate", "download_and_inspect", "resolve_releases", "resolve_stemcells", "stemcell_filename"]


def stemcell_filename(name: str, version: str, variant: str) -> str:
    """bosh.io's file name: ``[light-]bosh-stemcell-VERSION-IAAS-HYPERVISOR-OS-go_agent.tgz``."""
    return f"{'light-' if variant == 'light' else ''}bosh-stemcell-{version}-{name.removeprefix('bosh-')}.tgz"


# --- resolution through bosh.io ----------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A tarball to lock: where it is and the checksums some authority gave for it.

    ``trust`` is the lock's trust for it (``pinned``, ``bosh-io``, ``pinned-by-bosh-deployment``);
    ``source`` names that authority in messages ("the spec", "bosh.io", "bosh-deployment").  At least
    one of ``sha1`` and ``sha256`` is set: the download is checked against it."""

    url: str
    version: str  # "latest" only for a pinned URL whose version we learn from the tarball
    sha1: str | None
    sha256: str | None
    trust: str
    source: str  # who said so, for messages


# bosh.io's largest answer (every version of a stemcell, ?all=1) is a few MB; more is not an answer.
MAX_API_BYTES = 32 << 20


def _api(ctx: LockContext, url: str, what: str) -> list[dict[str, Any]]:
    data = ctx.http.get_bytes(url, allow_404=True, limit=MAX_API_BYTES)
    if data is None:
        return []
    try:
        doc = json.loads(data)
    except ValueError:
        raise ResolutionError(f"{what}: {url} did not answer JSON (is bosh_io.url right?)") from None
    if doc is None:
        return []
    if not isinstance(doc, list) or not all(isinstance(e, dict) for e in doc):
        raise ResolutionError(f"{what}: {url} answered something other than a list of versions")
    return doc


def _pick(entries: list[dict[str, Any]], version: str) -> dict[str, Any] | None:
    if version == "latest":
        return entries[0] if entries else None
    return next((e for e in entries if str(e.get("version")) == version), None)


def _newest(entries: list[dict[str, Any]], n: int = 5) -> str:
    versions = [str(e.get("version")) for e in entries[:n]]
    return ", ".join(versions) + (", …" if len(entries) > n else "") if versions else "none"


def _agree(what: str, pinned: str | None, published: str | None, algo: str, source: str) -> None:
    if pinned and published and pinned != published.lower():
        raise IntegrityError(
            f"{what}: the spec pins {algo} {pinned} but {source} publishes {published}:"
            " the upstream file changed or the pin is wrong; check which before locking"
        )


def _release_candidate(spec: Spec, rel: ReleaseSpec, ctx: LockContext) -> Candidate:
    what = f"release {rel.name} {rel.version}"
    if rel.url:
        return Candidate(rel.url, rel.version, rel.sha1, rel.sha256, "pinned", "the spec")
    api = f"{spec.bosh_io_url}/api/v1/releases/{rel.repo}"
    entries = _api(ctx, api, what)
    if not entries:
        raise ResolutionError(f"{what}: bosh.io knows no release at {rel.repo} ({api}); check 'repo' in the spec")
    entry = _pick(entries, rel.version)
    if entry is None:
        raise ResolutionError(f"{what}: bosh.io has no version {rel.version} of {rel.repo}; newest: {_newest(entries)}")
    return _from_boshio(f"{what}: the bosh.io entry for {rel.repo} {entry.get('version')}", rel, entry, entry)


def _stemcell_candidate(spec: Spec, st: StemcellSpec, ctx: LockContext) -> Candidate:
    what = f"stemcell {st.name} {st.version} ({st.variant})"
    if st.url:
        return Candidate(st.url, st.version, st.sha1, st.sha256, "pinned", "the spec")
    api = f"{spec.bosh_io_url}/api/v1/stemcells/{st.name}"
    entries = _api(ctx, api, what)
    entry = _pick([e for e in entries if isinstance(e.get(st.variant), dict)], st.version)
    if entry is None and st.version != "latest":
        entries = _api(ctx, api + "?all=1", what) or entries  # bosh.io lists only the newest by default
        entry = _pick([e for e in entries if isinstance(e.get(st.variant), dict)], st.version)
    if entry is None:
        if not entries:
            raise ResolutionError(f"{what}: bosh.io knows no stemcell named {st.name} ({api}); check 'name'")
        if _pick(entries, st.version) is not None:
            raise ResolutionError(f"{what}: bosh.io has {st.name} {st.version} but no {st.variant} variant of it")
        raise ResolutionError(f"{what}: bosh.io has no such version; newest: {_newest(entries)}")
    return _from_boshio(f"{what}: the bosh.io entry", st, entry, entry[st.variant])


def _from_boshio(entry_name: str, pin: ReleaseSpec | StemcellSpec, entry: dict, source: dict) -> Candidate:
    """The candidate a bosh.io entry gives; checksums the spec pins must agree with bosh.io's."""
    url, sha1, sha256 = source.get("url"), source.get("sha1"), source.get("sha256")
    if not url or not (sha1 or sha256):
        raise ResolutionError(f"{entry_name} has no url or checksum")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        # an answer of the API decides nothing outside the web: no file://, ftp:// or bare paths
        raise ResolutionError(f"{entry_name}: url {str(url)[:200]!r} is not an http(s) URL; refusing it")
    what = entry_name.split(":", 1)[0]
    _agree(what, pin.sha1, sha1, "sha1", "bosh.io")
    _agree(what, pin.sha256, sha256, "sha256", "bosh.io")
    return Candidate(
        str(url),
        str(entry["version"]),
        (pin.sha1 or sha1 or "").lower() or None,
        (pin.sha256 or sha256 or "").lower() or None,
        "pinned" if (pin.sha1 or pin.sha256) else "bosh-io",
        "bosh.io",
    )


def download_and_inspect(
    ctx: LockContext, cand: Candidate, kind: str, variant: str | None, what: str
) -> dict[str, Any]:
    """The facts of the verified tarball at ``cand.url``, from the lock cache's index or by downloading
    it once into the cache.

    ``kind`` is ``release`` or ``stemcell`` (``variant`` ``light``/``regular`` for a stemcell, else
    None); ``what`` names it in messages.  The download is refused (``IntegrityError``, nothing kept)
    unless its sha1/sha256 match ``cand`` and its contents pass ``bundler.core.bosh.check``.  Returns
    ``sha1``, ``sha256``, ``size`` and what the manifest inside says (``kind``, ``name``, ``version``;
    for a stemcell ``variant`` and ``operating_system``, for a light one ``ami``)."""
    key = f"{kind} sha1:{cand.sha1}" if cand.sha1 else f"{kind} sha256:{cand.sha256}"
    facts = lockfetch.remembered(ctx.cache, "bosh", key)
    if facts is not None:
        return facts
    log.info("%s: downloading %s to learn its sha256 and check its contents", what, cand.url)
    facts = lockfetch.retrying(ctx.http, what, lambda: _download_once(ctx, cand, kind, variant, what))
    lockfetch.remember(ctx.cache, "bosh", key, facts)
    return facts


def _download_once(ctx: LockContext, cand: Candidate, kind: str, variant: str | None, what: str) -> dict[str, Any]:
    bar = lockfetch.download_bar(ctx.progress, ctx.http, cand.url, what)
    with lockfetch.cache_sink(ctx.cache) as (sink, keep_as), bar as bar:
        found = inspect_chunks(
            lockfetch.counted(lockfetch.url_chunks(ctx.http, cand.url), bar),
            kind=kind,
            variant=variant,
            digests=("sha1", "sha256"),
            sink=sink,
        )
        problems = list(found.problems)
        got = found.scan.digests
        if found.scan.error is None:
            for algo in ("sha1", "sha256"):
                want = getattr(cand, algo)
                if want and got.get(algo) != want:
                    problems.insert(0, f"{algo} is {got.get(algo)}, {cand.source} says {want}")
        if problems:
            raise IntegrityError(
                f"{what} ({cand.url}): " + "; ".join(problems) + " — refusing to lock it (the download was discarded)"
            )
        sink.flush()
        keep_as.append(lockfetch.keep(ctx.cache, got["sha256"]))
    return {"sha1": got["sha1"], "sha256": got["sha256"], "size": found.scan.size, **found.facts()}


def _lock_release(spec: Spec, rel: ReleaseSpec, ctx: LockContext) -> Artifact:
    cand = _release_candidate(spec, rel, ctx)
    what = f"release {rel.name} {cand.version}"
    facts = download_and_inspect(ctx, cand, "release", None, what)
    version = facts["version"] if cand.version == "latest" else cand.version
    problems = []
    if facts["name"] != rel.name:
        problems.append(f"release.MF names the release {facts['name']!r}, the spec asks for {rel.name!r}")
    if facts["version"] != version:
        problems.append(f"release.MF gives version {facts['version']!r}, {cand.source} says {version!r}")
    if problems:
        raise IntegrityError(f"{what} ({cand.url}): " + "; ".join(problems))
    return Artifact(
        kind="release",
        name=rel.name,
        version=version,
        url=cand.url,
        size=int(facts["size"]),
        sha256=facts["sha256"],
        trust=cand.trust,
        path=f"releases/{rel.name}-{version}.tgz",
        meta={"sha1": facts["sha1"]},
    )


def _lock_stemcell(spec: Spec, st: StemcellSpec, ctx: LockContext) -> Artifact:
    cand = _stemcell_candidate(spec, st, ctx)
    what = f"stemcell {st.name} {cand.version} ({st.variant})"
    facts = download_and_inspect(ctx, cand, "stemcell", st.variant, what)
    version = facts["version"] if cand.version == "latest" else cand.version
    problems = []
    if facts["name"] != st.name:
        problems.append(f"stemcell.MF names the stemcell {facts['name']!r}, the spec asks for {st.name!r}")
    if facts["version"] != version:
        problems.append(f"stemcell.MF gives version {facts['version']!r}, {cand.source} says {version!r}")
    if facts.get("variant") != st.variant:
        problems.append(f"the tarball is a {facts.get('variant')} stemcell, the spec asks for {st.variant}")
    if problems:
        raise IntegrityError(f"{what} ({cand.url}): " + "; ".join(problems))
    meta: dict[str, Any] = {
        "sha1": facts["sha1"],
        "variant": st.variant,
        "operating_system": facts.get("operating_system", ""),
    }
    if st.variant == "light":
        meta["ami"] = dict(sorted((facts.get("ami") or {}).items()))
    return Artifact(
        kind="stemcell",
        name=st.name,
        version=version,
        url=cand.url,
        size=int(facts["size"]),
        sha256=facts["sha256"],
        trust=cand.trust,
        path=f"stemcells/{stemcell_filename(st.name, version, st.variant)}",
        meta=meta,
    )


PARALLEL = 4  # lock-time downloads at once (each also uses two threads to hash and inflate)


def _all(entries: tuple[Any, ...], lock_one: Callable[[Any], Artifact]) -> LockPart:
    """Lock every entry, downloads in parallel; every failure is reported, not just the first."""
    with ThreadPoolExecutor(max_workers=min(PARALLEL, max(1, len(entries))), thread_name_prefix="lock") as pool:
        futures = [pool.submit(lock_one, e) for e in entries]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if len(errors) == 1 or (errors and not all(isinstance(e, BundleError) for e in errors)):
        raise errors[0]
    if errors:
        raise type(errors[0])("\n".join(str(e) for e in errors))
    return LockPart(tuple(f.result() for f in futures))


def resolve_releases(spec: Spec, ctx: LockContext) -> LockPart:
    return _all(spec.releases, lambda rel: _lock_release(spec, rel, ctx))


def resolve_stemcells(spec: Spec, ctx: LockContext) -> LockPart:
    return _all(spec.stemcells, lambda st: _lock_stemcell(spec, st, ctx))


def ami_regions(artifact: Artifact) -> Mapping[str, str]:
    """The AMI per region a light stemcell in the lock has (empty for a regular one)."""
    return artifact.meta.get("ami") or {}
