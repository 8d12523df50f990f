"""Splitting an install order of .deb files into ``dpkg -i`` calls that respect Pre-Depends.

One ``dpkg -i`` call unpacks every file and configures them at the end, so a package whose
``Pre-Depends`` names another package of the same call fails ("pre-dependency problem: … is
unpacked, but has never been configured"), as python3-minimal does with python3.11-minimal.  apt
calls dpkg several times for this reason; so do we: ``stages`` cuts the order (dependencies first,
as the deb resolver writes it) before each package that pre-depends on a package (or a ``Provides``)
of the current stage.  The control fields are read from the files themselves (an ``ar`` archive
whose ``control.tar.{gz,xz}`` holds ``./control``; ``dpkg-deb -f`` for other compressions), so the
installer and the bootstrap need nothing but the bundle.
"""

from __future__ import annotations

import gzip
import io
import lzma
import re
import subprocess
import tarfile
from collections.abc import Sequence
from pathlib import Path

from bundler.core.errors import BundleError

_NAME = re.compile(r"^\s*([a-z0-9][a-z0-9+.-]*)")


def control_fields(deb: Path) -> dict[str, str]:
    """The control stanza of ``deb`` as a dict (continuation lines joined)."""
    text = _control_text(deb)
    fields: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    return fields


def _control_text(deb: Path) -> str:
    with open(deb, "rb") as fh:
        if fh.read(8) != b"!<arch>\n":
            raise BundleError(f"{deb.name}: not a .deb (no ar header)")
        while True:
            header = fh.read(60)
            if len(header) < 60:
                break
            name = header[:16].decode("ascii", "replace").strip().rstrip("/")
            size = int(header[48:58].decode("ascii").strip())
            data = fh.read(size)
            if size % 2:
                fh.read(1)
            if not name.startswith("control.tar"):
                continue
            if name.endswith(".gz"):
                raw = gzip.decompress(data)
            elif name.endswith(".xz"):
                raw = lzma.decompress(data)
            elif name == "control.tar":
                raw = data
            else:
                return _dpkg_deb_control(deb)
            with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
                for member in tar.getmembers():
                    if member.name in ("./control", "control"):
                        extracted = tar.extractfile(member)
                        if extracted is not None:
                            return extracted.read().decode("utf-8", "replace")
    raise BundleError(f"{deb.name}: no control file found")


def _dpkg_deb_control(deb: Path) -> str:
    proc = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BundleError(f"{deb.name}: dpkg-deb cannot read its control file: {proc.stderr.strip()}")
    return proc.stdout


def relation_names(value: str) -> set[str]:
    """Package names in a relation field: ``a (>= 1) | b:any, c`` -> {a, b, c}."""
    names = set()
    for group in value.split(","):
        for alt in group.split("|"):
            m = _NAME.match(alt)
            if m:
                names.add(m.group(1))
    return names


def stages(debs: Sequence[Path]) -> list[list[Path]]:
    """``debs`` (in install order) cut into consecutive ``dpkg -i`` calls; see the module docstring."""
    out: list[list[Path]] = []
    batch: list[Path] = []
    provided: set[str] = set()
    for deb in debs:
        fields = control_fields(deb)
        if relation_names(fields.get("Pre-Depends", "")) & provided:
            out.append(batch)
            batch, provided = [], set()
        batch.append(deb)
        provided.add(fields.get("Package", ""))
        provided |= relation_names(fields.get("Provides", ""))
    if batch:
        out.append(batch)
    return out
