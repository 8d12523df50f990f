"""One run of the AWS preflight: the ``Check`` it reports and the state its checks share.

A check is a plain function of the ``Preflight`` run (``installer.aws.checks_network``,
``installer.aws.checks_machines``); it adds one or more ``Check`` rows.  ``Preflight.aws`` runs
an AWS-backed check only when the credentials and the region work (else ``skip`` with the
reason), turning an API failure into a FAIL of that check.  ``Preflight.report`` turns problems
the site rules (``installer.site.rules``) found into a FAIL row: the preflight reports those rules,
it does not decide them again.  Imports the lock, the site model, ``bundler.core.problems`` and
``installer.aws.session``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bundler.core.lock import Lock
from bundler.core.problems import Problem
from installer.aws.session import AWS_ERRORS, Clients, error_text
from installer.site.model import Site

PASS, FAIL, SKIP = "pass", "FAIL", "skip"


@dataclass(frozen=True)
class Check:
    name: str  # stable id: credentials, region, availability_zone, subnet, …
    status: str  # "pass", "FAIL" or "skip"
    detail: str  # what was looked at and found
    fix: str = ""  # what to do, when it failed
    field: str = ""  # the site file location the check is about ("site.yml:4: aws.region")

    @property
    def ok(self) -> bool:
        return self.status != FAIL

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def problem_text(problems: Sequence[Problem]) -> str:
    """``field message; field message`` (the preflight's way of naming site fields in a detail)."""
    return "; ".join(f"{p.where} {p.message}" for p in problems)


@dataclass
class Preflight:
    site: Site
    lock: Lock | None
    clients: Clients
    checks: list[Check] = field(default_factory=list)
    subnet: dict[str, Any] | None = None  # the site's subnet, once the subnet check found it
    credentials_ok: bool = False
    region_ok: bool = False
    zone_ok: bool = False

    def add(self, name: str, status: str, detail: str, fix: str = "", field: str = "") -> None:
        where = self.site.where(field) if field else ""
        self.checks.append(Check(name, status, detail, fix, where))

    def report(self, name: str, problems: Sequence[Problem], fix: str = "") -> bool:
        """A FAIL row for what the site rules found (nothing when they found nothing); returns whether any."""
        if problems:
            self.add(name, FAIL, problem_text(problems), fix, problems[0].where)
        return bool(problems)

    def aws(self, name: str, field: str, body: Callable[[Preflight], None]) -> None:
        """Run an AWS-backed check, turning an API failure into a FAIL of that check."""
        if not self.credentials_ok:
            self.add(name, SKIP, "not checked: the AWS credentials do not work", field=field)
            return
        if not self.region_ok:
            self.add(name, SKIP, f"not checked: aws.region {self.site.aws.region!r} is not usable", field=field)
            return
        try:
            body(self)
        except AWS_ERRORS as exc:
            self.add(name, FAIL, f"AWS refused the check: {error_text(exc)}", "see AWS's reason above", field)
