"""Entry point of ``bosh-install`` (the offline side).

The command modules are imported inside ``main``, so that a Ctrl-C while they load (a second or
more on a slow host) ends like one during a run: one line and exit 130, no traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from bundler.core.cliapp import run
        from installer.commands import aws, deploy, fetch, install, manifests, status, verify
    except KeyboardInterrupt:
        print("bosh-install: interrupted", file=sys.stderr)
        return 130
    return run(
        "bosh-install",
        "Verify an offline BOSH bundle, install its toolchain and deploy MicroBOSH and BOSH.",
        (aws, deploy, fetch, install, manifests, status, verify),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
