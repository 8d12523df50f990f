"""Site files, private keys and locks for AWS tests against ``MotoServer``.

``write_site`` writes a site file whose ``aws`` section points at the moto endpoint with dummy
keys (``SITE_KEY_ID``/``SITE_SECRET``: tests assert they never show up in output or logs), and
``write_lock`` a lock holding one light stemcell whose AMI map the test chooses.
"""

from __future__ import annotations

import os
from pathlib import Path

from bundler.core.lock import Artifact, Lock, write_lock

SITE_KEY_ID = "AKIASITEFILEKEY12345"
SITE_SECRET = "site-secret-Zq8Wm4Xv9Lp2Rt7Yn3"
LIGHT_STEMCELL = "bosh-aws-xen-hvm-ubuntu-trusty-go_agent"


def write_site(path: Path, endpoint_url: str, *, private_key: Path, **values: str) -> Path:
    """A site file with comments (kept by write-back); ``values`` replace ``{placeholders}``."""
    v = {
        "region": "us-east-1",
        "zone": "us-east-1a",
        "subnet_id": "",
        "vpc_id": "",
        "cidr": "10.0.0.0/24",
        "elastic_ip": "",
        "instance_type": "m3.xlarge",
        "operator_cidr": "203.0.113.7/32",
    }
    v.update(values)
    text = f"""\
# Site parameters (test)
name: bosh
aws:
  region: {v["region"]}           # the light stemcell must have an AMI for it
  availability_zone: {v["zone"]}
  access_key_id: {SITE_KEY_ID}
  secret_access_key: {SITE_SECRET}
  endpoint_url: {endpoint_url}
network:
  vpc_id: {v["vpc_id"]}   # filled in by prepare
  subnet_id: {v["subnet_id"]}   # filled in by prepare
  cidr: {v["cidr"]}
  reserved: [10.0.0.2-10.0.0.9]
  security_group: bosh
  operator_cidr: {v["operator_cidr"]}    # your address
key_pair:
  name: bosh
  private_key: {private_key}
microbosh:
  static_ip: 10.0.0.6
  elastic_ip: {v["elastic_ip"]}
  instance_type: {v["instance_type"]}
  disk_size: 20000
bosh:
  static_ips: [10.0.0.10, 10.0.0.11]
  instance_type: m3.medium
  compilation_instance_type: c3.large
ntp: [0.pool.ntp.org]
"""
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def _stemcell(name: str, variant: str, amis: dict[str, str]) -> Artifact:
    return Artifact(
        kind="stemcell",
        name=name,
        version="3202",
        url=f"https://bosh.io/d/stemcells/{name}?v=3202",
        size=5000,
        sha256="0" * 64,
        trust="bosh-io",
        path=f"stemcells/{'light-' if variant == 'light' else ''}bosh-stemcell-3202-{name.removeprefix('bosh-')}.tgz",
        meta={"variant": variant, "ami": dict(amis)} if variant == "light" else {"variant": variant},
    )


def write_lock_with_stemcell(
    path: Path, amis: dict[str, str], name: str = LIGHT_STEMCELL, regular: str | None = None
) -> Path:
    """A lock with the light stemcell (MicroBOSH's) and, if ``regular`` names one, a full one (BOSH's)."""
    stemcells = [_stemcell(name, "light", amis)]
    if regular:
        stemcells.append(_stemcell(regular, "regular", {}))
    write_lock(Lock("test", {"os": "ubuntu-trusty"}, tuple(stemcells)), path)
    return path


def hvm_image(ec2) -> str:
    """An HVM image moto already knows (its built-in AMI list)."""
    images = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "virtualization-type", "Values": ["hvm"]}])
    return images["Images"][0]["ImageId"]
