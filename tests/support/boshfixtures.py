"""Real-format BOSH release and stemcell tarballs, and a bosh.io replica serving them on 127.0.0.1.

Releases are written the way ``bosh create release --with-tarball`` writes them: a gzipped tar whose
names start with ``./``, holding ``release.MF`` (name, version, commit_hash, uncommitted_changes,
jobs, packages, license) and ``jobs/NAME.tgz`` (``job.MF``, ``monit``, ``templates/…``) and
``packages/NAME.tgz``, each with the sha1 the manifest gives.  Stemcells have no ``./`` prefix:
``stemcell.MF`` (name, version, bosh_protocol, sha1, operating_system, cloud_properties), ``image``
and the package lists; a light AWS stemcell has an empty ``image`` and ``cloud_properties.ami``.

``serve_boshio`` answers ``/api/v1/releases/github.com/ORG/REPO`` and ``/api/v1/stemcells/NAME`` as
bosh.io does (newest first) and serves the download URLs.  ``reference_set`` builds the artifacts of
``examples/debian-bookworm.yml`` (bosh 233, bosh-aws-cpi 36, stemcells 3147 light and regular,
bosh-init 0.0.81) plus one older version of each so that ``latest`` means something;
``write_demo_spec`` writes a spec resolving them from the replica.  Our tarballs cannot have the
sha1 values published for the real ones, so the demo spec pins the fixtures' own sha1s instead.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.support.httpserver import LoopbackServer

LIGHT_BUCKET = "/bosh-aws-light-stemcells"
CORE_BUCKET = "/bosh-core-stemcells/aws"
BOSH_INIT_PATH = "/bosh-init-artifacts/bosh-init-0.0.81-linux-amd64"


def _tgz(files: Mapping[str, bytes], prefix: str = "", mode: int = 0o644) -> bytes:
    """A gzipped tar of ``files`` (name -> bytes), directory entries included, in a fixed order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        dirs: set[str] = set()
        if prefix:
            info = tarfile.TarInfo("./")
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for name in sorted(files):
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(prefix + d + "/")
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
            data = files[name]
            info = tarfile.TarInfo(prefix + name)
            info.size, info.mode, info.mtime = len(data), mode, 1_450_000_000
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)  # same inputs, same bytes


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- releases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    name: str
    packages: tuple[str, ...] = ()
    templates: Mapping[str, str] = field(default_factory=dict)  # source under templates/ -> destination


@dataclass(frozen=True)
class PackageSpec:
    name: str
    dependencies: tuple[str, ...] = ()
    size: int = 2048  # bytes of (incompressible) package contents


def job_tgz(job: JobSpec, *, with_monit: bool = True, drop_templates: Sequence[str] = ()) -> bytes:
    job_mf = {
        "name": job.name,
        "templates": dict(job.templates),
        "packages": list(job.packages),
        "properties": {f"{job.name}.port": {"description": "port", "default": 4222}},
    }
    files = {"job.MF": yaml.safe_dump(job_mf, sort_keys=False).encode()}
    if with_monit:
        files["monit"] = f"check process {job.name}\n  with pidfile /var/vcap/sys/run/{job.name}.pid\n".encode()
    for src in job.templates:
        if src not in drop_templates:
            files[f"templates/{src}"] = f"#!/bin/bash\n# {job.name} {src}\n".encode()
    return _tgz(files)


def package_tgz(pkg: PackageSpec, version: str) -> bytes:
    seed = hashlib.sha256(f"{pkg.name}-{version}".encode()).digest()
    body = (seed * (pkg.size // len(seed) + 1))[: pkg.size]
    return _tgz({"packaging": f"set -e\n# {pkg.name}\n".encode(), f"{pkg.name}/blob.bin": body})


@dataclass(frozen=True)
class BuiltRelease:
    name: str
    version: str
    path: Path
    sha1: str
    sha256: str
    repo: str


BOSH_JOBS = (
    JobSpec("nats", ("nats",), {"nats_ctl.erb": "bin/nats_ctl", "nats.yml.erb": "config/nats.yml"}),
    JobSpec("director", ("director", "ruby", "postgres"), {"director_ctl.erb": "bin/director_ctl"}),
    JobSpec("health_monitor", ("health_monitor", "ruby"), {"health_monitor_ctl.erb": "bin/health_monitor_ctl"}),
)
BOSH_PACKAGES = (
    PackageSpec("ruby"),
    PackageSpec("nats", ("ruby",)),
    PackageSpec("postgres"),
    PackageSpec("director", ("ruby", "postgres")),
    PackageSpec("health_monitor", ("ruby",)),
)
CPI_JOBS = (
    JobSpec("aws_cpi", ("bosh_aws_cpi", "ruby_aws_cpi"), {"cpi.erb": "bin/cpi", "cpi.json.erb": "config/cpi.json"}),
)
CPI_PACKAGES = (PackageSpec("ruby_aws_cpi"), PackageSpec("bosh_aws_cpi", ("ruby_aws_cpi",)))


def write_release(
    dest: Path,
    name: str,
    version: str,
    *,
    repo: str | None = None,
    jobs: Sequence[JobSpec] = BOSH_JOBS,
    packages: Sequence[PackageSpec] = BOSH_PACKAGES,
    manifest_name: str | None = None,
    corrupt_package: str | None = None,
    job_overrides: Mapping[str, bytes] | None = None,
    filename: str | None = None,
) -> BuiltRelease:
    """Write ``dest/NAME-VERSION.tgz``.  ``manifest_name`` writes another name into release.MF (a
    renamed release); ``corrupt_package`` changes that package's bytes after its sha1 went into the
    manifest; ``job_overrides`` replaces a job tarball (still listed with its real sha1 recomputed)."""
    files: dict[str, bytes] = {}
    mf_packages = []
    for pkg in packages:
        data = package_tgz(pkg, version)
        fp = sha1(data + b"fp")
        mf_packages.append(
            {
                "name": pkg.name,
                "version": fp,
                "fingerprint": fp,
                "sha1": sha1(data),
                "dependencies": list(pkg.dependencies),
            }
        )
        if pkg.name == corrupt_package:
            data = data[:-40] + bytes(b ^ 0x5A for b in data[-40:])
        files[f"packages/{pkg.name}.tgz"] = data
    mf_jobs = []
    for job in jobs:
        data = (job_overrides or {}).get(job.name) or job_tgz(job)
        fp = sha1(data + b"fp")
        mf_jobs.append({"name": job.name, "version": fp, "fingerprint": fp, "sha1": sha1(data)})
        files[f"jobs/{job.name}.tgz"] = data
    license_tgz = _tgz({"LICENSE": b"Apache License 2.0\n", "NOTICE": b"Copyright (c) the authors\n"})
    files["license.tgz"] = license_tgz
    manifest = {
        "name": manifest_name or name,
        "version": version,
        "commit_hash": sha1(f"{name}{version}".encode())[:8],
        "uncommitted_changes": False,
        "jobs": mf_jobs,
        "packages": mf_packages,
        "license": {"version": sha1(license_tgz), "fingerprint": sha1(license_tgz), "sha1": sha1(license_tgz)},
    }
    files["release.MF"] = yaml.safe_dump(manifest, sort_keys=False).encode()
    data = _tgz(files, prefix="./")
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / (filename or f"{name}-{version}.tgz")
    path.write_bytes(data)
    return BuiltRelease(name, version, path, sha1(data), sha256(data), repo or f"github.com/cloudfoundry/{name}")


# --- stemcells ----------------------------------------------------------------------------------


def stemcell_filename(name: str, version: str, light: bool) -> str:
    return f"{'light-' if light else ''}bosh-stemcell-{version}-{name.removeprefix('bosh-')}.tgz"


@dataclass(frozen=True)
class BuiltStemcell:
    name: str
    version: str
    variant: str  # light | regular
    path: Path
    sha1: str
    sha256: str
    ami: Mapping[str, str] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return self.path.name


def write_stemcell(
    dest: Path,
    name: str,
    version: str,
    *,
    light: bool = False,
    ami: Mapping[str, str] | None = None,
    operating_system: str = "ubuntu-trusty",
    image: bytes | None = None,
    manifest_sha1: str | None = None,
    filename: str | None = None,
) -> BuiltStemcell:
    """Write a stemcell tarball.  Heavy: ``image`` (default 32 KB of noise) and its sha1 in stemcell.MF
    (unless ``manifest_sha1`` says otherwise).  Light: empty ``image`` and ``cloud_properties.ami``."""
    original = hashlib.sha256(f"{name}-{version}-image".encode()).digest() * 1024
    if image is None:
        image = b"" if light else original
    cloud: dict[str, object] = {
        "name": name,
        "version": version,
        "infrastructure": "aws",
        "hypervisor": "xen",
        "disk": 3072,
        "disk_format": "raw",
        "container_format": "bare",
        "os_type": "linux",
        "os_distro": "ubuntu",
        "architecture": "x86_64",
        "root_device_name": "/dev/sda1",
    }
    if light:
        cloud["ami"] = dict(ami if ami is not None else {"us-east-1": "ami-e62f158c"})
    manifest = {
        "name": name,
        "version": version,
        "bosh_protocol": "1",
        "sha1": manifest_sha1 or (sha1(original) if light else sha1(image)),
        "operating_system": operating_system,
        "cloud_properties": cloud,
    }
    files = {
        "stemcell.MF": yaml.safe_dump(manifest, sort_keys=False).encode(),
        "image": image,
        "packages.txt": b"ii  libc6  2.19-0ubuntu6.7  amd64  GNU C Library\n",
        "dev_tools_file_list.txt": b"/usr/bin/gcc\n",
    }
    data = _tgz(files)
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / (filename or stemcell_filename(name, version, light))
    path.write_bytes(data)
    return BuiltStemcell(
        name, version, "light" if light else "regular", path, sha1(data), sha256(data), dict(cloud.get("ami") or {})
    )


# --- the reference set --------------------------------------------------------------------------

HVM = "bosh-aws-xen-hvm-ubuntu-trusty-go_agent"
PV = "bosh-aws-xen-ubuntu-trusty-go_agent"
AMIS = {"us-east-1": "ami-e62f158c", "us-west-2": "ami-54328238", "eu-west-1": "ami-a1b2c3d4"}


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


def write_big_stemcell(dest: Path, size: int, *, block: int = 64 * 1024 * 1024, level: int = 6) -> BuiltStemcell:
    """A heavy stemcell whose ``image`` holds ``size`` bytes of incompressible data, for benchmarks.

    Written at disk speed: the image is one random block repeated, and the gzip stream is a series
    of gzip members (valid gzip, as ``gunzip`` and our reader accept), the block's member
    compressed once at ``level`` and written ``size // block`` times.  ``size`` must be a multiple
    of ``block`` (itself a multiple of 512, so the tar needs no padding after the image)."""
    if size % block or block % 512:
        raise ValueError("size must be a multiple of block, block a multiple of 512")
    noise = os.urandom(block)
    h = hashlib.sha1()
    for _ in range(size // block):
        h.update(noise)
    manifest = {
        "name": PV,
        "version": "3147",
        "bosh_protocol": "1",
        "sha1": h.hexdigest(),
        "operating_system": "ubuntu-trusty",
        "cloud_properties": {"name": PV, "version": "3147", "infrastructure": "aws", "disk": 3072},
    }
    head = io.BytesIO()
    with tarfile.open(fileobj=head, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in (("stemcell.MF", yaml.safe_dump(manifest).encode()), ("packages.txt", b"libc6\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("image")
        info.size = size
        image_header = info.tobuf(tarfile.GNU_FORMAT)
        tail_buf = io.BytesIO()
        info = tarfile.TarInfo("dev_tools_file_list.txt")
        info.size = 13
        tail_buf.write(info.tobuf(tarfile.GNU_FORMAT) + b"/usr/bin/gcc\n".ljust(512, b"\0") + b"\0" * 1024)
    tar_head = _tar_entries(head.getvalue())  # without tarfile's end-of-archive padding
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / stemcell_filename(PV, "3147", False)
    member = gzip.compress(noise, compresslevel=level, mtime=0)
    with open(path, "wb") as f:
        f.write(gzip.compress(tar_head + image_header, mtime=0))
        for _ in range(size // block):
            f.write(member)
        f.write(gzip.compress(tail_buf.getvalue(), mtime=0))
    return BuiltStemcell(PV, "3147", "regular", path, "", "")


def _tar_entries(data: bytes) -> bytes:
    """The entries of an uncompressed tar without its end-of-archive zero blocks."""
    end = 0
    while end + 512 <= len(data) and data[end : end + 512] != b"\0" * 512:
        size = int(data[end + 124 : end + 136].rstrip(b"\0 ") or b"0", 8)
        end += 512 + (size + 511) // 512 * 512
    return data[:end]


def main(argv: Sequence[str] | None = None) -> int:
    """``python3 -m tests.support.boshfixtures DIR``: build the reference set in DIR, serve it as
    bosh.io on 127.0.0.1 and write DIR/bundle.yml resolving from it; serve until interrupted."""
    import argparse
    import time

    ap = argparse.ArgumentParser(prog="python3 -m tests.support.boshfixtures", description=main.__doc__)
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
