"""The control stanza of a ``.deb`` file, read from the file itself.

A ``.deb`` is an ``ar`` archive whose ``control.tar{,.gz,.xz}`` member holds ``./control``; those
are read here with the standard library, any other compression (``control.tar.zst``) through
``dpkg-deb -f``.  The stanza is parsed by the one deb822 reader (``bundler.core.deb.deb822``).
Used offline (the installer, the bootstrap), so it imports only the standard library and
``bundler.core``.
"""

from __future__ import annotations

import gzip
import io
import lzma
import subprocess
import tarfile
from pathlib import Path

from bundler.core.deb.deb822 import parse_stanza
from bundler.core.errors import BundleError

AR_MAGIC = b"!<arch>\n"


def control_fields(deb: Path) -> dict[str, str]:
    """The control stanza of ``deb`` as a dict (continuation lines joined)."""
    return parse_stanza(control_text(deb))


def control_text(deb: Path) -> str:
    """The text of ``./control`` in ``deb``."""
    with open(deb, "rb") as fh:
        if fh.read(8) != AR_MAGIC:
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
            raw = _decompressed(name, data)
            if raw is None:
                return _dpkg_deb_control(deb)
            text = _member_text(raw, ("./control", "control"))
            if text is not None:
                return text
    raise BundleError(f"{deb.name}: no control file found")


def _decompressed(name: str, data: bytes) -> bytes | None:
    """The tar inside ``control.tar*``; None for a compression read only by dpkg-deb."""
    if name.endswith(".gz"):
        return gzip.decompress(data)
    if name.endswith(".xz"):
        return lzma.decompress(data)
    if name == "control.tar":
        return data
    return None


def _member_text(tar_bytes: bytes, names: tuple[str, ...]) -> str | None:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        for member in tar.getmembers():
            if member.name in names:
                extracted = tar.extractfile(member)
                if extracted is not None:
                    return extracted.read().decode("utf-8", "replace")
    return None


def _dpkg_deb_control(deb: Path) -> str:
    proc = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BundleError(f"{deb.name}: dpkg-deb cannot read its control file: {proc.stderr.strip()}")
    return proc.stdout
