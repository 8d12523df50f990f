"""The name and version of this tool, as the CLIs' ``--version`` and the lock's ``tool`` field say them.

The version comes from the installed package's metadata; from a source tree that is not installed
(the offline runtime runs ``python3 -m installer`` from the bundle), from ``pyproject.toml`` beside
the package.  Imports nothing of the project.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import metadata
from pathlib import Path

NAME = "bosh-offline"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@cache
def tool_version() -> str:
    try:
        return metadata.version(NAME)
    except metadata.PackageNotFoundError:
        pass
    try:
        text = PYPROJECT.read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE)
    return found.group(1) if found else "unknown"


def tool_id() -> str:
    """``bosh-offline 0.1.0``: what the lock records as the tool that wrote it."""
    return f"{NAME} {tool_version()}"
