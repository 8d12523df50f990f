"""Entry point of ``bosh-bundle`` (the connected side)."""

from __future__ import annotations

from collections.abc import Sequence

from bundler.commands import bosh, build, debs, diff, gems, inspect, lock, publish, resplit, sign, verify
from bundler.core.cliapp import run


def main(argv: Sequence[str] | None = None) -> int:
    return run(
        "bosh-bundle",
        "Resolve, lock, download, pack, verify and inspect offline BOSH bundles.",
        (bosh, build, debs, diff, gems, inspect, lock, publish, resplit, sign, verify),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
