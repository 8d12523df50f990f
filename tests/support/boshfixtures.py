"""Real-format BOSH release and stemcell tarballs, written into a test's directory.

Releases are written the way ``bosh create release --with-tarball`` writes them: a gzipped tar whose
names start with ``./``, holding ``release.MF`` (name, version, commit_hash, uncommitted_changes,
jobs, packages, license) and ``jobs/NAME.tgz`` (``job.MF``, ``monit``, ``templates/…``) and
``packages/NAME.tgz``, each with the sha1 the manifest gives.  Stemcells have no ``./`` prefix
(unless asked: ``bosh repack-stemcell`` writes one): ``stemcell.MF`` (name, version, bosh_protocol,
sha1, operating_system, cloud_properties), ``image`` and the package lists; a light AWS stemcell has
an empty ``image`` and ``cloud_properties.ami``.  ``release_artifact``/``stemcell_artifact`` give
the lock entry a written tarball would have.  ``write_big_stemcell`` writes multi-GB stemcells at
disk speed for the benchmarks.  The bosh.io replica serving them is ``tests.support.boshioreplica``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bundler.core.lock import Artifact

HVM = "bosh-aws-xen-hvm-ubuntu-trusty-go_agent"
PV = "bosh-aws-xen-ubuntu-trusty-go_agent"
AMIS = {"us-east-1": "ami-e62f158c", "us-west-2": "ami-54328238", "eu-west-1": "ami-a1b2c3d4"}


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


def job_tgz(
    job: JobSpec, *, with_monit: bool = True, drop_templates: Sequence[str] = (), job_mf: bytes | None = None
) -> bytes:
    """A job tarball; ``job_mf`` is the text of its ``job.MF`` when not the one ``job`` describes."""
    if job_mf is None:
        doc = {
            "name": job.name,
            "templates": dict(job.templates),
            "packages": list(job.packages),
            "properties": {f"{job.name}.port": {"description": "port", "default": 4222}},
        }
        job_mf = yaml.safe_dump(doc, sort_keys=False).encode()
    files = {"job.MF": job_mf}
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
    prefix: str = "",
) -> BuiltStemcell:
    """Write a stemcell tarball.  Heavy: ``image`` (default 32 KB of noise) and its sha1 in stemcell.MF
    (unless ``manifest_sha1`` says otherwise).  Light: empty ``image`` and ``cloud_properties.ami``.
    ``prefix="./"`` names the entries ``./stemcell.MF``, ``./image``…, as ``bosh repack-stemcell`` does."""
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
    data = _tgz(files, prefix=prefix)
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / (filename or stemcell_filename(name, version, light))
    path.write_bytes(data)
    return BuiltStemcell(
        name, version, "light" if light else "regular", path, sha1(data), sha256(data), dict(cloud.get("ami") or {})
    )


# --- lock entries for them ----------------------------------------------------------------------


def release_artifact(built: BuiltRelease, name: str | None = None, version: str | None = None) -> Artifact:
    """The lock entry of ``built`` (or of the release ``name``/``version`` the lock expects instead)."""
    name, version = name or built.name, version or built.version
    return Artifact(
        "release",
        name,
        version,
        "http://h.invalid/r.tgz",
        built.path.stat().st_size,
        built.sha256,
        "bosh-io",
        f"releases/{name}-{version}.tgz",
        {"sha1": built.sha1},
    )


def stemcell_artifact(
    built: BuiltStemcell, variant: str | None = None, ami: Mapping[str, str] | None = None
) -> Artifact:
    """The lock entry of ``built`` (or with the ``variant``/``ami`` the lock expects instead)."""
    variant = variant or built.variant
    meta: dict[str, object] = {"sha1": built.sha1, "variant": variant, "operating_system": "ubuntu-trusty"}
    if variant == "light":
        meta["ami"] = dict(ami if ami is not None else built.ami)
    return Artifact(
        "stemcell",
        built.name,
        built.version,
        "http://h.invalid/s.tgz",
        built.path.stat().st_size,
        built.sha256,
        "bosh-io",
        f"stemcells/{built.filename}",
        meta,
    )


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
