"""A bosh.io replica on 127.0.0.1 serving the reference set of releases, stemcells and bosh-init.

``serve_boshio`` answers ``/api/v1/releases/github.com/ORG/REPO`` and ``/api/v1/stemcells/NAME`` as
bosh.io does (newest first) and serves the download URLs.  ``reference_set`` builds the artifacts of
``examples/debian-bookworm.yml`` (bosh 233, bosh-aws-cpi 36, stemcells 3147 light and regular,
bosh-init 0.0.81; written by ``tests.support.boshfixtures``) plus one older version of each so that
``latest`` means something; ``write_demo_spec`` writes a spec resolving them from the replica.  Our
tarballs cannot have the sha1 values published for the real ones, so the demo spec pins the
fixtures' own sha1s instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support.boshfixtures import (
    AMIS,
    CPI_JOBS,
    CPI_PACKAGES,
    HVM,
    PV,
    BuiltRelease,
    BuiltStemcell,
    write_release,
    write_stemcell,
)
from tests.support.httpserver import LoopbackServer

LIGHT_BUCKET = "/bosh-aws-light-stemcells"
CORE_BUCKET = "/bosh-core-stemcells/aws"
BOSH_INIT_PATH = "/bosh-init-artifacts/bosh-init-0.0.81-linux-amd64"


# --- the reference set --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceSet:
    releases: tuple[BuiltRelease, ...]
    stemcells: tuple[BuiltStemcell, ...]
    binaries: Mapping[str, Path]  # URL path on the replica -> file

    def release(self, name: str, version: str) -> BuiltRelease:
        return next(r for r in self.releases if r.name == name and r.version == version)

    def stemcell(self, name: str, version: str, variant: str) -> BuiltStemcell:
        return next(s for s in self.stemcells if (s.name, s.version, s.variant) == (name, version, variant))


def reference_set(
    dest: Path,
    *,
    bosh_versions: Sequence[str] = ("232", "233"),
    cpi_versions: Sequence[str] = ("35", "36"),
    stemcell_versions: Sequence[str] = ("3146", "3147"),
    amis: Mapping[str, str] = AMIS,
) -> ReferenceSet:
    """The artifacts of examples/debian-bookworm.yml (the last version of each list is the newest)."""
    releases = [
        write_release(dest / "releases", "bosh", v, repo="github.com/cloudfoundry/bosh") for v in bosh_versions
    ] + [
        write_release(
            dest / "releases",
            "bosh-aws-cpi",
            v,
            repo="github.com/cloudfoundry-incubator/bosh-aws-cpi-release",
            jobs=CPI_JOBS,
            packages=CPI_PACKAGES,
        )
        for v in cpi_versions
    ]
    stemcells = []
    for v in stemcell_versions:
        stemcells.append(write_stemcell(dest / "stemcells", HVM, v, light=True, ami=amis))
        stemcells.append(write_stemcell(dest / "stemcells", HVM, v))
        stemcells.append(write_stemcell(dest / "stemcells", PV, v))
    binary = dest / "bin" / "bosh-init-0.0.81-linux-amd64"
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_bytes(b"#!/bin/sh\necho 'version 0.0.81-775439c-2015-12-09T00:36:03Z'\n")
    return ReferenceSet(tuple(releases), tuple(stemcells), {BOSH_INIT_PATH: binary})


# --- the bosh.io replica ------------------------------------------------------------------------


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in version.split("."))


@dataclass
class BoshioReplica:
    server: LoopbackServer
    base_url: str
    public_urls: bool

    @property
    def mirrors(self) -> dict[str, str]:
        """Upstream prefixes -> this replica, for a spec's ``mirrors`` (or ``--mirror``)."""
        return {"https://bosh.io": self.base_url, "https://s3.amazonaws.com": self.base_url}

    def upstream(self, path: str) -> str:
        """The URL of ``path`` as the API publishes it (bosh.io/S3 when public_urls, else the replica)."""
        if not self.public_urls:
            return self.base_url + path
        host = "https://bosh.io" if path.startswith(("/d/", "/api/")) else "https://s3.amazonaws.com"
        return host + path


@contextlib.contextmanager
def serve_boshio(
    reference: ReferenceSet,
    *,
    public_urls: bool = False,
    release_sha256: bool = False,
    stemcell_sha256: bool = True,
) -> Iterator[BoshioReplica]:
    """Serve ``reference`` as bosh.io does.  ``release_sha256``: release entries carry sha256 (newer
    bosh.io entries do; the 2016 ones only sha1).  ``public_urls``: the API answers with bosh.io and
    S3 URLs (use ``replica.mirrors``), else with the replica's own."""
    with LoopbackServer() as server:
        replica = BoshioReplica(server, server.base_url, public_urls)
        by_repo: dict[str, list[BuiltRelease]] = {}
        for r in reference.releases:
            by_repo.setdefault(r.repo, []).append(r)
        for repo, rels in by_repo.items():
            entries = []
            for r in sorted(rels, key=lambda r: _version_key(r.version), reverse=True):
                path = f"/d/{repo}?v={r.version}"
                server.routes[path] = r.path.read_bytes()
                entry = {"name": repo, "version": r.version, "url": replica.upstream(path), "sha1": r.sha1}
                if release_sha256:
                    entry["sha256"] = r.sha256
                entries.append(entry)
            server.routes[f"/api/v1/releases/{repo}"] = json.dumps(entries).encode()
        by_name: dict[str, dict[str, dict[str, object]]] = {}
        for s in reference.stemcells:
            path = f"{LIGHT_BUCKET if s.variant == 'light' else CORE_BUCKET}/{s.filename}"
            data = s.path.read_bytes()
            server.routes[path] = data
            source: dict[str, object] = {
                "url": replica.upstream(path),
                "size": len(data),
                "md5": hashlib.md5(data).hexdigest(),
                "sha1": s.sha1,
            }
            if stemcell_sha256:
                source["sha256"] = s.sha256
            by_name.setdefault(s.name, {}).setdefault(s.version, {"name": s.name, "version": s.version})[s.variant] = (
                source
            )
        for name, versions in by_name.items():
            entries = [versions[v] for v in sorted(versions, key=_version_key, reverse=True)]
            server.routes[f"/api/v1/stemcells/{name}"] = json.dumps(entries).encode()
        for path, file in reference.binaries.items():
            server.routes[path] = file.read_bytes()
        yield replica


def write_demo_spec(
    dest: Path,
    replica: BoshioReplica,
    reference: ReferenceSet,
    *,
    base: Path | None = None,
    keep_sections: Sequence[str] = (),
    pin_sha1: bool = True,
    bosh_version: str = "233",
    cpi_version: str = "36",
    stemcell_version: str = "3147",
) -> Path:
    """Write a spec like examples/debian-bookworm.yml whose releases, stemcells and bosh-init come from
    ``replica``.  ``base`` (default: that example) gives name and target, plus ``keep_sections`` (e.g.
    "debs", "ruby", "gems", "runtime", "apt") copied unchanged.  With ``pin_sha1`` the releases pin
    the fixtures' sha1s, as the example pins the real ones."""
    base = base or Path(__file__).resolve().parents[2] / "examples" / "debian-bookworm.yml"
    doc = yaml.safe_load(base.read_text(encoding="utf-8"))
    out: dict[str, object] = {"name": doc["name"], "target": doc["target"]}
    for key in keep_sections:
        if key in doc:
            out[key] = doc[key]
    releases = []
    for name, repo, version in (
        ("bosh", "github.com/cloudfoundry/bosh", bosh_version),
        ("bosh-aws-cpi", "github.com/cloudfoundry-incubator/bosh-aws-cpi-release", cpi_version),
    ):
        entry: dict[str, str] = {"name": name, "repo": repo, "version": version}
        if pin_sha1 and version != "latest":
            entry["sha1"] = reference.release(name, version).sha1
        releases.append(entry)
    out["releases"] = releases
    out["stemcells"] = [
        {"name": HVM, "version": stemcell_version, "variant": "light"},
        {"name": PV, "version": stemcell_version, "variant": "regular"},
    ]
    out["binaries"] = [
        {"name": "bosh-init", "version": "0.0.81", "url": "https://s3.amazonaws.com" + BOSH_INIT_PATH},
    ]
    out["bosh_io"] = {"url": replica.base_url}
    out["mirrors"] = replica.mirrors
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(yaml.safe_dump(out, sort_keys=False), encoding="utf-8")
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    """``python3 -m tests.support.boshioreplica DIR``: build the reference set in DIR, serve it as
    bosh.io on 127.0.0.1 and write DIR/bundle.yml resolving from it; serve until interrupted."""
    import argparse
    import time

    ap = argparse.ArgumentParser(prog="python3 -m tests.support.boshioreplica", description=main.__doc__)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--keep-sections", nargs="*", default=[], help="spec sections copied from the example")
    ap.add_argument("--public-urls", action="store_true", help="the API answers bosh.io/S3 URLs (spec mirrors)")
    args = ap.parse_args(argv)
    ref = reference_set(args.dir)
    with serve_boshio(ref, public_urls=args.public_urls) as replica:
        spec = write_demo_spec(args.dir / "bundle.yml", replica, ref, keep_sections=args.keep_sections)
        sys.stdout.write(f"bosh.io replica at {replica.base_url}; spec: {spec} (Ctrl-C to stop)\n")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
