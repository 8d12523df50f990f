"""The offline ops file for ``bosh create-env``: every release and stemcell ``url`` of bosh-deployment's
manifest replaced by a ``file://`` URL into the extracted payload.

The lock's ``director`` section (``bundler.core.lock.DirectorSection``) records, for each tarball the
interpolated manifest names, the go-patch path of its ``url`` and the payload path of the bundled
file; this ops file is generated at install time (the payload's place is known only then).  The
``sha1`` values stay as bosh-deployment wrote them, so bosh still checks every tarball it reads.

Imports only ``bundler.core``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from bundler.core.errors import InputError
from bundler.core.lock import DirectorSection


def offline_ops(section: DirectorSection, payload: Path) -> list[dict[str, Any]]:
    """One ``replace`` operation per release/stemcell url of the lock's director section."""
    if not section.urls:
        raise InputError("the lock's director section names no release or stemcell url (lock again)")
    return [
        {"type": "replace", "path": u["path"], "value": (Path(payload).absolute() / u["artifact"]).as_uri()}
        for u in section.urls
    ]


def write_ops(section: DirectorSection, payload: Path, dest: Path) -> Path:
    """Write the ops file to ``dest`` (atomically) and return it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_text(yaml.safe_dump(offline_ops(section, payload), sort_keys=False), encoding="utf-8")
    os.replace(tmp, dest)
    return dest
