"""Fixtures for the deploy tests: a site file with the guide's example values, a bundle lock whose
releases and stemcells exist as small files in an extracted payload, and a private key file.

The releases are small real-format tarballs (a release.MF naming every job the manifests name, no
packages: ``manifests check`` reads release.MF); the stemcell files are placeholders (a few bytes
each): the deploy side only hands their paths and checksums to bosh-init and the bosh CLI.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bundler.core.lock import Artifact, Lock, write_lock
from tests.support.boshfixtures import JobSpec, write_release

LIGHT = "bosh-aws-xen-hvm-ubuntu-trusty-go_agent"
REGULAR = "bosh-aws-xen-ubuntu-trusty-go_agent"

# The guide's example values (sections 5.3 and 6.4).  The guide gives BOSH's postgres job
# 10.0.0.6, MicroBOSH's own address; ours start at 10.0.0.10 (the validator rejects the clash).
GUIDE_SITE = """\
name: bosh
aws:
  region: us-east-1
  availability_zone: us-east-1a
  access_key_id: AKIAEXAMPLEKEY000001
  secret_access_key: oDexampleSecretKeyThatIsLongEnough0001
network:
  subnet_id: subnet-e8d03a9e
  cidr: 10.0.0.0/24
  reserved: [10.0.0.2-10.0.0.9]
  security_group: bosh
key_pair:
  name: bosh
  private_key: bosh.pem
microbosh:
  static_ip: 10.0.0.6
  elastic_ip: 52.99.9.99
  instance_type: m3.xlarge
  disk_size: 20000
  director_name: my-bosh
bosh:
  static_ips: [10.0.0.10, 10.0.0.11, 10.0.0.12, 10.0.0.13, 10.0.0.14, 10.0.0.15, 10.0.0.16]
  elastic_ip: 52.99.99.100
  instance_type: m1.small
  director_instance_type: m1.medium
  compilation_instance_type: m1.small
  compilation_workers: 3
ntp: [0.pool.ntp.org, 1.pool.ntp.org]
vars_store: vars/vars.yml
"""

# Every job the two manifests name (manifests/microbosh.yml and bosh.yml): `manifests check` looks for them.
BOSH_RELEASE_JOBS = ("nats", "redis", "postgres", "blobstore", "director", "health_monitor", "registry", "powerdns")


def release_tarball(name: str, version: str, jobs: tuple[str, ...]) -> bytes:
    """A small real-format release tarball (release.MF and these jobs, no packages)."""
    with tempfile.TemporaryDirectory() as tmp:
        built = write_release(Path(tmp), name, version, jobs=[JobSpec(j) for j in jobs], packages=())
        return built.path.read_bytes()


FAKE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEexampleexampleexample\n-----END RSA PRIVATE KEY-----\n"


@dataclass
class DeployFixture:
    root: Path
    site_path: Path
    lock_path: Path
    lock: Lock
    payload: Path
    key_path: Path


def _artifact(payload: Path, kind: str, name: str, version: str, rel: str, meta: dict, body: bytes) -> Artifact:
    path = payload / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return Artifact(
        kind=kind,
        name=name,
        version=version,
        url=f"https://bosh.example/{rel}",
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        trust="bosh-io",
        path=rel,
        meta=meta,
    )


def make_fixture(
    root: Path,
    site_text: str = GUIDE_SITE,
    with_sha1: bool = True,
    amis: dict[str, str] | None = None,
    files: Mapping[str, Path] | None = None,
) -> DeployFixture:
    """``files``: "bosh", "cpi", "light" or "regular" -> a real file to put in the payload (and the
    lock) instead of that fixture (tests/agreement/test_real_deploy.py: the real tarballs)."""
    root.mkdir(parents=True, exist_ok=True)
    payload = root / "payload"
    files = files or {}
    bodies = {
        "bosh": release_tarball("bosh", "233", BOSH_RELEASE_JOBS) if "bosh" not in files else b"",
        "cpi": release_tarball("bosh-aws-cpi", "36", ("aws_cpi",)) if "cpi" not in files else b"",
        "light": b"light stemcell 3147\n",
        "regular": b"regular stemcell 3147\n" * 10,
    }
    bodies.update({key: Path(path).read_bytes() for key, path in files.items()})

    def sha1(key: str) -> dict:
        return {"sha1": hashlib.sha1(bodies[key]).hexdigest()} if with_sha1 else {}

    arts = [
        _artifact(payload, "release", "bosh", "233", "releases/bosh-233.tgz", sha1("bosh"), bodies["bosh"]),
        _artifact(payload, "release", "bosh-aws-cpi", "36", "releases/bosh-aws-cpi-36.tgz", sha1("cpi"), bodies["cpi"]),
        _artifact(
            payload,
            "stemcell",
            LIGHT,
            "3147",
            "stemcells/light-bosh-stemcell-3147-aws-xen-hvm-ubuntu-trusty-go_agent.tgz",
            {
                "variant": "light",
                "ami": amis or {"us-east-1": "ami-e62f158c", "eu-west-1": "ami-0a1b2c3d"},
                **sha1("light"),
            },
            bodies["light"],
        ),
        _artifact(
            payload,
            "stemcell",
            REGULAR,
            "3147",
            "stemcells/bosh-stemcell-3147-aws-xen-ubuntu-trusty-go_agent.tgz",
            {"variant": "regular", **sha1("regular")},
            bodies["regular"],
        ),
    ]
    lock = Lock("bosh-aws-trusty", {"os": "ubuntu", "codename": "trusty"}, tuple(arts), {})
    lock_path = root / "bundle.lock"
    write_lock(lock, lock_path)
    key_path = root / "bosh.pem"
    key_path.write_text(FAKE_KEY)
    key_path.chmod(0o400)
    site_path = root / "site.yml"
    site_path.write_text(site_text)
    site_path.chmod(0o600)  # it holds an AWS secret key
    return DeployFixture(root, site_path, lock_path, lock, payload, key_path)


def replace_release(fx: DeployFixture, name: str, body: bytes) -> DeployFixture:
    """The fixture with release ``name``'s payload file replaced by ``body``, the lock following it
    (size, sha256, sha1): a bundle whose release is another tarball than the manifests expect."""
    old = fx.lock.find("release", name)
    meta = {**old.meta, "sha1": hashlib.sha1(body).hexdigest()}
    new = _artifact(fx.payload, "release", old.name, old.version, old.path, meta, body)
    lock = Lock(fx.lock.spec_name, fx.lock.target, tuple(new if a is old else a for a in fx.lock.artifacts), {})
    write_lock(lock, fx.lock_path)
    fx.lock = lock
    return fx
