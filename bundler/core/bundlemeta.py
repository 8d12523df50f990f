"""``bundle.json``: the bundle's metadata, one small file listed in (and signed through) ``SHA256SUMS``.

::

    {"format": 1, "serial": 20261201093000, "expires": "2027-03-01T00:00:00Z" or null,
     "tool_version": "0.1.0", "created": "2026-12-01T09:30:00Z"}

``serial`` grows with every build of a bundle (by default the build's UTC time as YYYYMMDDHHMMSS,
or ``--serial N``); the offline host records the last installed serial and refuses an older one
(rollback).  ``expires`` is optional; a bundle past it is refused by ``verify`` (freeze).
Because the file is listed in ``SHA256SUMS``, which is signed, neither can be changed without
breaking the signature.  Imports only ``bundler.core``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from bundler.core.errors import InputError
from bundler.core.tool import tool_version

META = "bundle.json"
FORMAT = 1
MAX_META_BYTES = 64 * 1024  # a handful of fields


@dataclass(frozen=True)
class BundleMeta:
    serial: int
    expires: str | None = None
    tool_version: str = ""
    created: str = ""
    format: int = FORMAT

    def expired(self, now: float | None = None) -> bool:
        return self.expires is not None and _parse_time(self.expires, "expires") <= (now or time.time())


def _stamp(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _parse_time(value: str, where: str) -> float:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except (TypeError, ValueError):
        raise InputError(f"{META}: {where} {value!r} is not a UTC time like 2027-03-01T00:00:00Z") from None


def new_meta(serial: int | None = None, expires_days: float | None = None, now: float | None = None) -> BundleMeta:
    now = time.time() if now is None else now
    if serial is None:
        serial = int(time.strftime("%Y%m%d%H%M%S", time.gmtime(now)))
    if serial < 1:
        raise InputError(f"--serial {serial}: must be a positive integer")
    expires = _stamp(now + expires_days * 86400) if expires_days is not None else None
    return BundleMeta(serial=serial, expires=expires, tool_version=tool_version(), created=_stamp(now))


def write_meta(directory: Path, meta: BundleMeta) -> Path:
    path = Path(directory) / META
    tmp = path.with_name(META + ".tmp")
    tmp.write_text(json.dumps(asdict(meta), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_meta(directory: Path) -> BundleMeta | None:
    """The bundle's metadata, None when the bundle has none (built before it existed)."""
    path = Path(directory) / META
    if not path.exists():
        return None
    if not path.is_file() or path.stat().st_size > MAX_META_BYTES:
        raise InputError(f"{path}: not a bundle metadata file (a regular file under {MAX_META_BYTES} bytes)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path}: not bundle metadata of format {FORMAT}")
    serial, expires = data.get("serial"), data.get("expires")
    if not isinstance(serial, int) or isinstance(serial, bool) or serial < 1:
        raise InputError(f"{path}: serial {serial!r} is not a positive integer")
    if expires is not None:
        _parse_time(expires, "expires")
    return BundleMeta(serial, expires, str(data.get("tool_version", "")), str(data.get("created", "")))
