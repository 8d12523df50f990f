"""What a transfer can do to a release tarball, and our ``bosh-bundle bosh check`` on the result.

Each corruption reads a real release tarball and writes a new one beside ``dest``, keeping every
other member as it was (name, mode, order): a byte flipped inside a package's compressed data, a
byte flipped in a package's gzip header (its mtime: ``tar`` does not notice, the sha1 does), the
outer gzip cut short, a job removed, the release renamed in ``release.MF``.

``bosh_check(paths)`` runs ``bosh-bundle bosh check --json`` in-process and returns the exit code and
the report.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

from bundler.cli import main as bundle_main

Edit = Callable[[tarfile.TarInfo, bytes | None], tuple[tarfile.TarInfo, bytes | None] | None]


def _members(path: Path) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(path) as tar:
        return [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]


def repack(src: Path, dest: Path, edit: Edit) -> Path:
    """``dest``: ``src`` with ``edit(member, data)`` applied to each member (None drops it)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as out:
        for member, data in _members(src):
            edited = edit(member, data)
            if edited is None:
                continue
            member, data = edited
            if data is not None:
                member.size = len(data)
            out.addfile(member, io.BytesIO(data) if data is not None else None)
    dest.write_bytes(gzip.compress(buf.getvalue(), mtime=0))
    return dest


def _is(member: tarfile.TarInfo, name: str) -> bool:
    return member.name.removeprefix("./") == name


def flip_package_byte(src: Path, dest: Path, package: str) -> Path:
    """One bit flipped in the middle of ``packages/PACKAGE.tgz``'s deflate data (its gzip CRC breaks)."""

    def edit(member, data):
        if _is(member, f"packages/{package}.tgz"):
            data = bytearray(data)
            data[len(data) // 2] ^= 0x01
            data = bytes(data)
        return member, data

    return repack(src, dest, edit)


def touch_package_header(src: Path, dest: Path, package: str) -> Path:
    """``packages/PACKAGE.tgz``'s gzip header mtime changed: still valid gzip, another sha1."""

    def edit(member, data):
        if _is(member, f"packages/{package}.tgz"):
            data = data[:4] + bytes([data[4] ^ 0x01]) + data[5:]
        return member, data

    return repack(src, dest, edit)


def truncate(src: Path, dest: Path, keep: float = 2 / 3) -> Path:
    """The outer gzip cut at ``keep`` of its length (an interrupted copy)."""
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * keep)])
    return dest


def drop_job(src: Path, dest: Path, job: str) -> Path:
    return repack(src, dest, lambda m, d: None if _is(m, f"jobs/{job}.tgz") else (m, d))


def rename(src: Path, dest: Path, old: str, new: str) -> Path:
    """``release.MF``'s name changed (another release's tarball under this one's file name)."""

    def edit(member, data):
        if _is(member, "release.MF"):
            data = data.replace(f"name: {old}\n".encode(), f"name: {new}\n".encode(), 1)
        return member, data

    return repack(src, dest, edit)


def bosh_check(*paths: Path) -> tuple[int, dict]:
    """``bosh-bundle bosh check --json PATH...``: (exit code, the JSON report)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = bundle_main(["bosh", "check", "--json", *map(str, paths)])
    return code, json.loads(out.getvalue())
