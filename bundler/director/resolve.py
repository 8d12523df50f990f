"""The ``director`` lock part for ``toolchain: create-env``: bosh-deployment, and every release and
stemcell its interpolated manifest names, locked with both digests.

The bosh-deployment tarball is locked (``source``), unpacked into a scratch directory and
interpolated by the locked bosh CLI (``interpolate``: no go-patch of our own).  Each release and
stemcell ``url`` is then downloaded once into the cache as bosh.io's are (``bundler.boshio.resolve``:
the sha1 bosh-deployment gives, or its ``sha256:…``, checked while the sha256 is computed and the
contents checked in the same read), with trust ``pinned-by-bosh-deployment`` and the sha1 kept in
``meta``.  Compiled releases must match the stemcell (``bundler.core.bosh.compiled``): refused here,
naming both.  The spec's own ops files are locked as ``manifest`` artifacts.  The section
(``bundler.core.lock.DirectorSection``) tells the installer how to run ``bosh create-env``.

Imports ``bundler.core``, ``bundler.net``, ``bundler.binaries``, ``bundler.boshio.resolve`` and the spec.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundler import binaries
from bundler.boshio.resolve import Candidate, download_and_inspect, stemcell_filename
from bundler.core.bosh import compiled
from bundler.core.bosh.check import label
from bundler.core.errors import IntegrityError
from bundler.core.lock import Artifact, LockPart
from bundler.director import interpolate, source
from bundler.net.cache import artifact_path
from bundler.net.download import download_to_cache
from bundler.spec import Spec

if TYPE_CHECKING:
    from bundler.lockcontext import LockContext

TRUST = "pinned-by-bosh-deployment"


def _cli(spec: Spec, ctx: LockContext) -> Artifact:
    wanted = tuple(b for b in spec.binaries if b.name == spec.director.cli)
    return binaries.resolve_binaries(replace(spec, binaries=wanted), ctx).artifacts[0]


def _own_ops(ops: tuple[str, ...], ctx: LockContext) -> list[Artifact]:
    out = []
    for op in ops:
        if op.startswith("/"):
            got = download_to_cache(ctx.http, Path(op).as_uri(), ctx.cache, what=f"director.ops_files {op}")
            name = Path(op).name
            out.append(Artifact("manifest", f"ops-{name}", got.sha256[:12], Path(op).as_uri(), got.size,
                                got.sha256, "pinned", f"director/ops/{got.sha256[:12]}-{name}"))  # fmt: skip
    return out


def _tarball_artifact(t: interpolate.Tarball, ctx: LockContext) -> Artifact:
    what = f"{t.kind} {t.name}" + (f" {t.version}" if t.kind == "release" else "")
    cand = Candidate(t.url, t.version, t.sha1, t.sha256, TRUST, "bosh-deployment")
    facts = download_and_inspect(ctx, cand, t.kind, None, what)
    if t.kind == "release" and (facts["name"], facts["version"]) != (t.name, t.version):
        raise IntegrityError(
            f"{what} ({t.url}): release.MF says {facts['name']} {facts['version']}, bosh-deployment says"
            f" {t.name} {t.version}"
        )
    meta: dict[str, Any] = {"sha1": facts["sha1"]}
    if t.kind == "release":
        stemcells = sorted(set(compiled.compiled_for(artifact_path(ctx.cache, facts["sha256"])).values()))
        suffix = f"-{stemcells[0].replace('/', '-')}" if len(stemcells) == 1 else ""
        if stemcells:
            meta["compiled_for"] = stemcells
        path = f"releases/{t.name}-{t.version}{suffix}.tgz"
    else:
        meta.update(variant=facts.get("variant"), operating_system=facts.get("operating_system", ""))
        if facts.get("variant") == "light":
            meta["ami"] = dict(sorted((facts.get("ami") or {}).items()))
        path = f"stemcells/{stemcell_filename(facts['name'], facts['version'], facts.get('variant') or 'regular')}"
    name = t.name if t.kind == "release" else facts["name"]
    return Artifact(t.kind, name, facts["version"], t.url, int(facts["size"]), facts["sha256"], TRUST, path, meta)


def _check_compiled(artifacts: list[Artifact], ctx: LockContext) -> None:
    stemcells = [
        compiled.StemcellIdentity(label("stemcell", a.name, a.version, a.url), a.meta["operating_system"], a.version)
        for a in artifacts
        if a.kind == "stemcell"
    ]
    problems = []
    for a in artifacts:
        if a.kind == "release" and a.meta.get("compiled_for"):
            where = label("release", a.name, a.version, a.url)
            problems += compiled.release_problems(
                where, compiled.compiled_for(artifact_path(ctx.cache, a.sha256)), stemcells
            )
    if problems:
        raise IntegrityError("; ".join(str(p) for p in problems) + " — refusing to lock them")


def resolve(spec: Spec, ctx: LockContext) -> LockPart:
    d = spec.director
    if d.toolchain != "create-env":
        return LockPart(section_name="director", section={"toolchain": d.toolchain})
    cli = _cli(spec, ctx)
    src = source.lock_source(d, ctx)
    own = _own_ops(d.ops_files, ctx)
    with tempfile.TemporaryDirectory(prefix="bosh-deployment.") as tmp:
        root = source.unpack(src.file, Path(tmp) / "src")
        run = Path(tmp) / "bosh"
        shutil.copyfile(artifact_path(ctx.cache, cli.sha256), run)
        doc = interpolate.interpolate(run, cli.sha256, root, d.manifest, d.ops_files)
        top = root.relative_to(Path(tmp) / "src").as_posix() if root != Path(tmp) / "src" else ""
    found = interpolate.tarballs(doc)
    artifacts = [_tarball_artifact(t, ctx) for t in found]
    _check_compiled(artifacts, ctx)
    own_by_url = {a.url: a.path for a in own}
    ops = [
        {"payload": own_by_url[Path(o).as_uri()]} if o.startswith("/") else {"bosh_deployment": o} for o in d.ops_files
    ]
    section = {
        "toolchain": "create-env",
        "source": src.artifact.path,
        "top": top,
        "manifest": d.manifest,
        "ops_files": ops,
        "cli": cli.path,
        "urls": [{"path": t.patch_path, "artifact": a.path} for t, a in zip(found, artifacts, strict=True)],
    }
    return LockPart((src.artifact, *own, *artifacts), "director", section)
