"""Tiny real wheels and a PEP 503 "simple" index for them, served from a ``LoopbackServer``.

``make_wheel`` writes a valid pure-Python wheel (``NAME/__init__.py`` plus dist-info with METADATA,
WHEEL and RECORD); ``simple_index_routes`` gives the routes of an index whose links carry the
wheels' sha256 fragments, as PyPI's do.  Pip is pointed at it with ``pip_env`` (no config files, no
other index), so tests never leave 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def make_wheel(dest: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{name}-{version}-py3-none-any.whl"
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{dist}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            + "".join(f"Requires-Dist: {r}\n" for r in requires)
        ).encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for member, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{member},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(path, "w") as zf:
        for member, data in files.items():
            info = zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0))
            zf.writestr(info, data)
    return path


def simple_index_routes(wheels: list[Path]) -> dict[str, object]:
    """Routes ``/simple/NAME/`` (text/html, as pip requires) and ``/files/WHEEL`` for a ``LoopbackServer``."""
    routes: dict[str, object] = {}
    by_project: dict[str, list[Path]] = {}
    for w in wheels:
        by_project.setdefault(w.name.split("-")[0].replace("_", "-").lower(), []).append(w)
        routes[f"/files/{w.name}"] = w.read_bytes()
    for project, files in by_project.items():
        links = "".join(
            f'<a href="/files/{w.name}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}">{w.name}</a>\n'
            for w in files
        )
        page = f"<html><body>\n{links}</body></html>\n".encode()
        routes[f"/simple/{project}/"] = lambda _handler, page=page: (200, {"Content-Type": "text/html"}, page)
    return routes


def pip_env(index_url: str) -> dict[str, str]:
    """Environment that makes pip use only ``index_url``."""
    return {
        "PIP_CONFIG_FILE": "/dev/null",
        "PIP_INDEX_URL": index_url,
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_FIND_LINKS": "",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_CONSTRAINT": "",
    }
