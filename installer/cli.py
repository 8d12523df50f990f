"""Entry point of ``bosh-install`` (the offline side)."""

from __future__ import annotations

from collections.abc import Sequence

from bundler.core.cliapp import run
from installer.commands import aws, deploy, fetch, install, manifests, status, verify


def main(argv: Sequence[str] | None = None) -> int:
    return run(
        "bosh-install",
        "Verify an offline BOSH bundle, install its toolchain and deploy MicroBOSH and BOSH.",
        (aws, deploy, fetch, install, manifests, status, verify),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
