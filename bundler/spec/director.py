"""The spec's ``director`` section: which toolchain deploys the director, and from what.

    director:
      toolchain: create-env          # or bosh-init (the guide's path: MicroBOSH, then BOSH)
      bosh_deployment:               # a source tarball of cloudfoundry/bosh-deployment at a commit
        url: https://…/bosh-deployment-a97dea6.tar.gz
        sha256: …                    # or path: ./bosh-deployment.tgz (a local tarball)
      manifest: bosh.yml             # inside bosh-deployment (default)
      ops_files: [aws/cpi.yml, misc/…, ./site-ops.yml]   # bosh-deployment's, or ./ paths beside the spec
      cli: bosh                      # the ``binaries`` entry of the bosh CLI v2 (default: bosh)

``create-env`` needs ``bosh_deployment`` and the CLI in ``binaries``; ``bosh-init`` takes nothing else.
Imports only ``bundler.core.yamlfile`` and the spec's field checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bundler.core.yamlfile import Fields
from bundler.spec import fields

TOOLCHAINS = ("bosh-init", "create-env")


@dataclass(frozen=True)
class DirectorSpec:
    toolchain: str = "bosh-init"
    url: str | None = None  # bosh-deployment source tarball
    sha256: str | None = None
    path: Path | None = None  # or a local tarball
    manifest: str = "bosh.yml"
    ops_files: tuple[str, ...] = ()  # inside bosh-deployment, or absolute paths of the spec's own
    cli: str = "bosh"


def _inside(f: Fields, key: str, value: str) -> bool:
    p = PurePosixPath(value)
    if p.is_absolute() or ".." in p.parts or not value:
        f.problems.add(f.path(key), f"{value!r} must be a path inside bosh-deployment (e.g. aws/cpi.yml)")
        return False
    return True


def _ops_files(f: Fields, base: Path) -> tuple[str, ...]:
    out = []
    for i, value in enumerate(f.string_list("ops_files", []) or ()):
        if value.startswith("./") or value.startswith("../"):
            out.append(str((base / value).resolve()))
        elif _inside(f, f"ops_files[{i}]", value):
            out.append(value)
    return tuple(out)


def director(f: Fields | None, base: Path) -> DirectorSpec | None:
    """Parse the section; ``base`` is the spec's directory (for ``path`` and ``./`` ops files)."""
    if f is None:
        return None
    toolchain = f.choice("toolchain", TOOLCHAINS, "bosh-init")
    source = f.sub("bosh_deployment")
    url = sha256 = path = None
    if source is not None:
        url = fields.url(source, "url", None)
        sha256 = fields.sha256(source)
        local = source.string("path", None)
        source.done()
        if local is not None:
            path = (base / Path(local).expanduser()).resolve()
        if bool(url) == bool(local):
            f.problems.add(f.path("bosh_deployment"), "give either url (with sha256) or path")
        elif url and not sha256:
            f.problems.add(f.path("bosh_deployment.sha256"), "a bosh-deployment url needs its sha256")
    manifest = f.string("manifest", "bosh.yml")
    if manifest is not None:
        _inside(f, "manifest", manifest)
    ops = _ops_files(f, base)
    cli = f.string("cli", "bosh")
    f.done()
    if toolchain == "create-env" and source is None:
        f.problems.add(f.path("bosh_deployment"), "create-env needs bosh_deployment: {url, sha256} or {path}")
    return DirectorSpec(toolchain, url, sha256, path, manifest or "bosh.yml", ops, cli or "bosh")
