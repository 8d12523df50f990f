"""Our bosh-init manifest validator, seen the way the real bosh-init is: a manifest in, problem texts out.

``our_problems(manifest)`` runs, on a deep copy, what the project checks before bosh-init reads a
MicroBOSH manifest: the manifest rules (``installer.manifests.boshinit.bosh_init_problems``) and the
manifest's ``file://`` artifacts as bosh-init will find them on disk (``installer.manifests.releases.
file_problems``: the files exist, each release carries its name and every job the manifest names,
read from its ``release.MF``; ``manifests check`` reads the same from the bundle).  Each problem is
rendered by ``str()``.  ``key_path_of`` reads the manifest key path a bosh-init message starts with,
and ``names_place`` says whether one of our problems is there.  The only place the real-tool tests
reach inside the project.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from installer.manifests.boshinit import bosh_init_problems
from installer.manifests.releases import file_problems


def our_problems(manifest: Any) -> list[str]:
    doc = copy.deepcopy(manifest)
    problems = bosh_init_problems(doc)
    if isinstance(doc, dict):
        problems += file_problems("microbosh", doc)
    return [str(p) for p in problems]


TOP_KEYS = ("name", "releases", "networks", "resource_pools", "disk_pools", "jobs", "cloud_provider")
KEY_PATH = re.compile(r"^[a-z_]+(?:\[\d+\])?(?:\.[a-z_0-9]+(?:\[\d+\])?)*(?= )")


def key_path_of(real_says: str) -> str:
    """The manifest key path bosh-init's message starts with (``jobs[0].templates[0]``)."""
    found = KEY_PATH.match(real_says)
    assert found and found.group(0).split(".")[0].split("[")[0] in TOP_KEYS, f"give the row an at= ({real_says})"
    return found.group(0)


def names_place(ours: list[str], at: str) -> bool:
    """One of our problems is at ``at`` or inside it."""
    return any(re.match(re.escape(at) + r"(?:[.\[:]|$)", o.split(": ")[0]) for o in ours)
