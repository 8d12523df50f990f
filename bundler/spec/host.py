"""The offline host: ``target`` (its OS, release, codename and architecture) and ``runtime`` (the Python
that runs the installer there: the distro's own, or a python-build-standalone tarball).

Types beside their parsers (``target``, ``runtime``: the section's ``Fields`` in, the type or
``None`` out, problems recorded).  Imports only ``bundler.core.yamlfile`` and the spec's files.
"""

from __future__ import annotations

from dataclasses import dataclass

from bundler.core.yamlfile import Fields
from bundler.spec.files import FileRef, file_ref

ARCHES = ("amd64", "arm64", "i386", "armhf")


@dataclass(frozen=True)
class Target:
    os: str  # "ubuntu" or "debian"
    release: str  # "14.04", "12"
    codename: str  # "trusty", "bookworm"
    arch: str  # Debian architecture name


@dataclass(frozen=True)
class RuntimeSpec:
    mode: str  # standalone | distro
    python: FileRef | None = None  # python-build-standalone tarball (standalone mode)
    python_version: str = "3.12"  # for `pip download --python-version`


def target(f: Fields | None) -> Target | None:
    if f is None:
        return None
    os_ = f.choice("os", ("ubuntu", "debian"))
    release = f.string("release")
    codename = f.string("codename")
    arch = f.choice("arch", ARCHES, "amd64")
    f.done()
    if None in (os_, release, codename, arch):
        return None
    return Target(os_, release, codename, arch)


def runtime(f: Fields | None) -> RuntimeSpec | None:
    if f is None:
        return None
    mode = f.choice("mode", ("standalone", "distro"))
    python = None
    python_f = f.sub("python")
    if python_f is not None:
        python = file_ref(python_f)
        python_f.done()
    version = f.string("python_version", "3.12")
    f.done()
    if mode == "standalone" and python is None:
        f.problems.add(f.path("python"), "standalone mode needs the python-build-standalone tarball (url, sha256)")
    return RuntimeSpec(mode, python, version) if mode else None
