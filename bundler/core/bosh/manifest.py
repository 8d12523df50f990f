"""Reading a BOSH manifest (``release.MF``, ``job.MF``, ``stemcell.MF``) as YAML, as bosh itself does.

bosh-cli (Go yaml) and the director (Ruby Psych) are libyaml-like readers: they accept a TAB inside
a plain scalar (``description: foo<TAB>bar``), which PyYAML's pure-Python scanner refuses.  So the
manifests are read with libyaml's loader where PyYAML was built with it (``yaml.CSafeLoader``),
else with ``yaml.SafeLoader``; this one function serves lock, build, verify and ``bosh check``
alike.  A manifest that is not YAML, or not a mapping, is a problem named after the file.

Imports nothing of the project.
"""

from __future__ import annotations

from typing import Any

import yaml

LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_manifest(data: bytes, what: str, problems: list[str]) -> dict | None:
    """The mapping in ``data``, or None with the reason appended to ``problems`` (naming ``what``)."""
    try:
        doc = yaml.load(data, Loader=LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        problems.append(f"{what} is not valid YAML ({str(exc).splitlines()[0]})")
        return None
    if not isinstance(doc, dict):
        problems.append(f"{what} is not a YAML mapping")
        return None
    return doc


def text(value: Any) -> str:
    """A manifest field as text ("" when absent)."""
    return "" if value is None else str(value)
