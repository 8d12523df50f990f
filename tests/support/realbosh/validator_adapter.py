"""Our bosh-init manifest validator, seen the way the real bosh-init is: a manifest in, problem texts out.

``our_problems(manifest)`` calls ``bosh_init_problems`` from ``installer.manifests.boshinit`` when that
module exists, else from ``installer.manifests.validate`` (the module is being split), on a deep copy,
and renders each problem as text: a ``Problem`` by ``str()``, a ``(key path, message)`` pair as
``path: message``.  The only place the real-tool tests reach inside the project.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
from typing import Any


def _validator():
    name = "installer.manifests.boshinit"
    if importlib.util.find_spec(name) is None:
        name = "installer.manifests.validate"
    return importlib.import_module(name).bosh_init_problems


def our_problems(manifest: Any) -> list[str]:
    problems = _validator()(copy.deepcopy(manifest))
    return [f"{p[0]}: {p[1]}" if isinstance(p, tuple) else str(p) for p in problems]
