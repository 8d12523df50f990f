"""Entry point of ``bosh-bundle`` (the connected side).

The command modules are imported inside ``main``, so that a Ctrl-C while they load (a second or
more on a slow host) ends like one during a run: one line and exit 130, no traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from bundler.commands import bosh, build, debs, diff, gems, inspect, lock, publish, resplit, sign, verify
        from bundler.core.cliapp import run
    except KeyboardInterrupt:
        print("bosh-bundle: interrupted", file=sys.stderr)
        return 130
    return run(
        "bosh-bundle",
        "Resolve, lock, download, pack, verify and inspect offline BOSH bundles.",
        (bosh, build, debs, diff, gems, inspect, lock, publish, resplit, sign, verify),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
