"""The one problem type: what a validator or a check found wrong, and where.

Validators collect every problem before reporting (as bosh-cli's do), so an operator fixes a site
file, a manifest or a bundle in one pass.  ``where`` names the place: a site field
(``network.cidr``, rendered ``site.yml:12: network.cidr`` by the site), a manifest path
(``networks[0].subnets[0].range``), a tarball and its inner file, an artifact, or an origin such as
``lock:releases/bosh-233.tgz``; ``message`` says what is wrong and, where known, what to do.
Imports nothing of the project.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message
