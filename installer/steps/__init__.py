"""Install steps, each idempotent and journaled, run in order by ``installer.install``.

A step is a module with ``NAME``, ``applies(ctx) -> bool`` (does this bundle need it),
``inputs(ctx) -> JSON-able`` (what it consumes: its digest decides whether a done step is still
current) and ``run(ctx) -> dict`` (does the work, returns facts for the journal).  ``STEPS`` is the
order: verify → extract → debs → ruby → gems → clis.  ``verify`` and ``extract`` are prerequisites:
they run when a later step has to run and the extracted payload is not current.
"""

from __future__ import annotations

import importlib
from types import ModuleType

STEPS: tuple[str, ...] = ("verify", "extract", "debs", "ruby", "gems", "clis")
PREREQUISITES: tuple[str, ...] = ("verify", "extract")


def load(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")
