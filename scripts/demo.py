#!/usr/bin/env python3
"""The README's main job: a whole connected-side run of bosh-bundle on this machine.

It resolves ``examples/debian-bookworm.yml`` the way an operator would, then builds, verifies and
inspects the bundle.  Debian packages and the Ruby source come from Debian's real archive, as this
machine's apt is configured to reach it.  rubygems.org, bosh.io and S3 cannot be reached from here, so
the demo starts the same local replicas the tests use, on 127.0.0.1 and in the upstreams' real formats:
a gem compact index of real ``.gem`` files (the bosh_cli 1.3147.0 closure, built with ``gem build``),
and a bosh.io API with real-format release and stemcell tarballs and a bosh-init stand-in.  The spec
keeps the upstream URLs; ``--mirror`` sends them to the replicas, and the lock records the upstream
URLs with the checksums the replicas publish.  Because the replicas' tarballs are not the real ones,
the demo spec pins the replicas' sha1s instead of the real releases' (see write_demo_spec).

Output goes under ``out/demo/`` (``bundle.yml``, ``bundle.lock``, ``bundle/``); downloads are cached
in the usual bosh-bundle cache, so a second run fetches nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bundler.cli import main as bosh_bundle  # noqa: E402
from tests.support.boshioreplica import reference_set, serve_boshio, write_demo_spec  # noqa: E402
from tests.support.gemrepo import build_bosh_cli_replica, serve_gem_replica  # noqa: E402


def step(title: str, argv: list[str]) -> None:
    print(f"\n==> {title}: bosh-bundle {' '.join(argv)}", flush=True)
    code = bosh_bundle(argv)
    if code != 0:
        raise SystemExit(f"demo: '{title}' failed with exit code {code}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "out" / "demo", help="work directory (default: out/demo)")
    parser.add_argument("--volume-size", default="200m", help="payload volume size (default: 200m)")
    args = parser.parse_args()
    work = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)

    print("==> building the local replicas of rubygems.org and bosh.io (first run: about a minute)", flush=True)
    gem_root = build_bosh_cli_replica(work / "replicas" / "gems")
    reference = reference_set(work / "replicas" / "bosh")
    with serve_gem_replica(gem_root) as gems, serve_boshio(reference, public_urls=True) as boshio:
        spec = write_demo_spec(
            work / "bundle.yml", boshio, reference, keep_sections=("runtime", "apt", "debs", "ruby", "gems")
        )
        mirror = ["--mirror", f"https://rubygems.org={gems.base_url}"]
        lock, bundle = work / "bundle.lock", work / "bundle"
        step("resolve", ["lock", "--spec", str(spec), "--lock", str(lock), *mirror])
        build = ["build", "--spec", str(spec), "--lock", str(lock), "--out", str(bundle)]
        step("build", [*build, "--volume-size", args.volume_size, *mirror])
    step("verify", ["verify", str(bundle)])
    step("inspect", ["inspect", str(bundle)])
    print(f"\nThe bundle is in {bundle}; carry it to the offline host and run 'sh install.sh' there.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
