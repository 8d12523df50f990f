"""Install steps, each idempotent and journaled, run in order by ``installer.install``.

A step is a module with ``NAME``, ``applies(ctx) -> bool`` (does this bundle need it),
``inputs(ctx) -> JSON-able`` (what it consumes: its digest decides whether a done step is still
current) and ``run(ctx) -> dict`` (does the work, returns facts for the journal).  ``STEPS`` is the
order: verify → extract → installer (``bosh-install`` kept on the host) → debs → ruby → gems →
clis.  ``verify`` and ``extract`` are prerequisites:
they run when a later step has to run and the extracted payload is not current.  ``extract`` also
has ``present(ctx)``: whether the extracted payload is still on disk.

Imports the step modules only; each step imports the install context, the bundle core and the
process runner.
"""

from __future__ import annotations

from types import ModuleType

from installer.steps import clis, debs, extract, gems, ruby, selfinstall, verify

STEPS: dict[str, ModuleType] = {
    "verify": verify,
    "extract": extract,
    "installer": selfinstall,
    "debs": debs,
    "ruby": ruby,
    "gems": gems,
    "clis": clis,
}
PREREQUISITES: tuple[str, ...] = ("verify", "extract")
