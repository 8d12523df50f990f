"""What ``bosh create-env`` from bosh-deployment needs, in real formats, and a replica serving it.

``compile_release`` turns a source release made by the real ``bosh create-release`` into a compiled
release in the format of the real compiled tarballs among bosh-cli's test assets
(``integration/assets/small-sha256-compiled-release.tgz``): ``release.MF`` first, with the jobs as they
were and ``compiled_packages`` (name, version, fingerprint, ``sha1: sha256:…``, ``stemcell: OS/VERSION``,
dependencies) instead of ``packages``; each ``compiled_packages/NAME.tgz`` holds what the package
installs.  ``build_set`` makes the set of bosh-deployment's ``bosh.yml`` + ``aws/cpi.yml``: the ``bosh``
and ``bpm`` releases compiled for ``ubuntu-noble/1.103`` (and ``bosh`` compiled for ``1.99`` too), the
offline test CPI as ``bosh-aws-cpi`` (source), a light ``ubuntu-noble`` 1.103 stemcell, the real bosh
CLI; ``fork`` writes bosh-deployment's snapshot as an operator's fork pointing at them (what operators
do by hand today: our tarballs cannot have the real ones' sha1s).  ``serve`` answers at S3-, bosh.io-,
GCS- and GitHub-style paths on 127.0.0.1; ``Replica.mirrors`` maps those upstreams to it.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support.boshfixtures import write_stemcell
from tests.support.httpserver import LoopbackServer
from tests.support.realbosh.releases import RELEASES, ReleaseSource, build_source
from tests.support.realbosh.tools import UPSTREAM, RealTools

STEMCELL = "bosh-aws-xen-hvm-ubuntu-noble-go_agent"
OS = "ubuntu-noble"
VERSION = "1.103"
OTHER_VERSION = "1.99"
DEPLOYMENT = UPSTREAM / "bosh-deployment-a97dea6.tar.gz"
S3, BOSHIO, GCS, GITHUB = (
    "https://s3.amazonaws.com", "https://bosh.io", "https://storage.googleapis.com", "https://github.com"
)  # fmt: skip
CPI_REPO = "cloudfoundry/bosh-aws-cpi-release"
CLI_PATH = "/cloudfoundry/bosh-cli/releases/download/v7.9.13/bosh-cli-7.9.13-linux-amd64"
DEPLOYMENT_PATH = "/cloudfoundry/bosh-deployment/archive/a97dea6.tar.gz"


def _members(path: Path) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(path) as tar:
        return [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]


def _tgz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.mode, info.mtime = (0o755 if name.endswith("/") or "/bin/" in name else 0o644), 0
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def compile_release(source: Path, dest: Path, stemcell: str) -> Path:
    """``dest``: the source release ``source`` compiled for ``stemcell`` (``OS/VERSION``)."""
    members = {m.name.removeprefix("./"): (m, data) for m, data in _members(source)}
    mf = yaml.safe_load(members["release.MF"][1])
    out: dict[str, bytes] = {}
    compiled = []
    for p in mf.get("packages") or ():
        body = _tgz({"./": b"", "./bin/": b"", f"./bin/{p['name']}": f"{p['name']} for {stemcell}\n".encode()})
        out[f"compiled_packages/{p['name']}.tgz"] = body
        compiled.append({"name": p["name"], "version": p["version"], "fingerprint": p["fingerprint"],
                         "sha1": "sha256:" + hashlib.sha256(body).hexdigest(), "stemcell": stemcell,
                         "dependencies": list(p.get("dependencies") or ())})  # fmt: skip
    manifest = {k: v for k, v in mf.items() if k != "packages"} | {"compiled_packages": compiled}
    files = {"release.MF": yaml.safe_dump(manifest, sort_keys=False).encode(), "jobs/": b""}
    files.update({n: d for n, (m, d) in members.items() if n.startswith("jobs/") and m.isfile()})
    files["compiled_packages/"] = b""
    files.update(out)
    if "license.tgz" in members:
        files["license.tgz"] = members["license.tgz"][1]
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(_tgz(files))
    return dest


@dataclass(frozen=True)
class Served:
    path: Path
    url: str  # upstream-style URL (mirrored to the replica)

    @property
    def sha1(self) -> str:
        return hashlib.sha1(self.path.read_bytes()).hexdigest()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class CreateEnvSet:
    bosh: Served  # compiled for ubuntu-noble/1.103
    bosh_other: Served  # compiled for ubuntu-noble/1.99
    bpm: Served
    cpi: Served  # the offline test CPI, named bosh-aws-cpi, version 36
    stemcell: Served
    cli: Served
    root: Path

    def all(self) -> list[Served]:
        return [self.bosh, self.bosh_other, self.bpm, self.cpi, self.stemcell, self.cli]


def _api_v2(path: Path) -> Path:
    """The stemcell with ``api_version: 2`` in stemcell.MF, as today's stemcells have (the v7 CLI needs
    it, with a CPI answering ``info`` with api_version 2, to deploy without a registry)."""
    files = {}
    for m, data in _members(path):
        name = m.name.removeprefix("./")
        if name == "stemcell.MF":
            data = yaml.safe_dump(yaml.safe_load(data) | {"api_version": 2}, sort_keys=False).encode()
        files[name + ("/" if m.isdir() else "")] = data or b""
    path.write_bytes(_tgz(files))
    return path


def build_set(real_releases: dict, tools: RealTools, root: Path, cache: Path) -> CreateEnvSet:
    """The tarballs (``real_releases``: the session's real releases; ``cache``: where bpm is built)."""
    bpm_source = build_source(ReleaseSource("bpm", RELEASES / "bpm", final_version="1.4.20"), tools, cache)
    bucket = f"{S3}/bosh-compiled-release-tarballs"

    def compiled(src: Path, name: str, version: str, stemcell_version: str) -> Served:
        file = f"{name}-{version}-{OS}-{stemcell_version}.tgz"
        return Served(compile_release(src, root / file, f"{OS}/{stemcell_version}"), f"{bucket}/{file}")

    stemcell = _api_v2(write_stemcell(root, STEMCELL, VERSION, light=True, operating_system=OS).path)
    return CreateEnvSet(
        bosh=compiled(real_releases["bosh-final"].path, "bosh", "233", VERSION),
        bosh_other=compiled(real_releases["bosh-final"].path, "bosh", "233", OTHER_VERSION),
        bpm=compiled(bpm_source["bpm-final"].path, "bpm", "1.4.20", VERSION),
        cpi=Served(
            real_releases["test-cpi-final"].path, f"{BOSHIO}/d/github.com/cloudfoundry/bosh-aws-cpi-release?v=36"
        ),
        stemcell=Served(stemcell, f"{GCS}/bosh-aws-light-stemcells/{VERSION}/{stemcell.name}"),
        cli=Served(tools.bosh, GITHUB + CLI_PATH),
        root=root,
    )


def fork(dest: Path, s: CreateEnvSet, *, bosh: Served | None = None, sha256_for_bosh: bool = True) -> Served:
    """bosh-deployment's snapshot with its releases and stemcell pointed at ``s`` (``bosh``: another
    bosh release, e.g. ``s.bosh_other``); the bosh release's digest written ``sha256:…`` as bosh allows."""
    bosh = bosh or s.bosh
    members = _members(DEPLOYMENT)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as out:
        for m, data in members:
            name = m.name.removeprefix("./")
            if name == "bosh-deployment/bosh.yml":
                doc = yaml.safe_load(data)
                for rel in doc["releases"]:
                    served = bosh if rel["name"] == "bosh" else s.bpm
                    digest = f"sha256:{served.sha256}" if rel["name"] == "bosh" and sha256_for_bosh else served.sha1
                    rel.update(url=served.url, sha1=digest, version="233" if rel["name"] == "bosh" else "1.4.20")
                data = yaml.safe_dump(doc, sort_keys=False).encode()
            elif name == "bosh-deployment/aws/cpi.yml":
                ops = yaml.safe_load(data)
                for op in ops:
                    if op.get("name") == "cpi":
                        op["value"].update(url=s.cpi.url, sha1=s.cpi.sha1, version="36")
                    elif op.get("name") == "stemcell":
                        op["value"].update(url=s.stemcell.url, sha1=s.stemcell.sha1)
                data = yaml.safe_dump(ops, sort_keys=False).encode()
            if data is not None:
                m.size = len(data)
            out.addfile(m, io.BytesIO(data) if data is not None else None)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(gzip.compress(buf.getvalue(), mtime=0))
    return Served(dest, GITHUB + DEPLOYMENT_PATH.replace(".tar.gz", f"-{dest.stem.split('.')[0]}.tar.gz"))


@dataclass
class Replica:
    server: LoopbackServer

    @property
    def mirrors(self) -> dict[str, str]:
        return {up: self.server.base_url for up in (S3, BOSHIO, GCS, GITHUB)}


@contextlib.contextmanager
def serve(files: list[Served]) -> Iterator[Replica]:
    """Serve each file at its upstream URL's path (query included) on 127.0.0.1."""
    with LoopbackServer() as server:
        for f in files:
            path = f.url.split("://", 1)[1]
            server.routes[path[path.index("/") :]] = f.path.read_bytes()
        yield Replica(server)
