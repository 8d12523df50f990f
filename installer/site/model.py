"""The site file (``site.yml``): what the operator must supply about their AWS environment.

One file holds every value the guide has the operator edit by hand in the two manifests (region,
zone, subnet, IPs, key pair, security group, instance types, credentials).  ``load_site`` parses it
into a frozen ``Site`` and derives what can be derived (gateway ``.1`` and DNS ``.2`` of the subnet,
as AWS assigns them); the semantic checks (IPs inside the subnet, AZ in the region, …) are the site
rules' (``installer.site.rules``, beside it), which name the site field to change.  Imports only
``bundler.core.yamlfile``.

    name: bosh                          # MicroBOSH and deployment name prefix
    aws:
      region: us-east-1
      availability_zone: us-east-1a
      profile: default                  # or access_key_id + secret_access_key
      endpoint_url: http://…            # optional: an AWS-compatible endpoint (tests)
    network:
      vpc_id: vpc-…                     # optional (filled in by `bosh-install aws prepare`)
      subnet_id: subnet-…
      cidr: 10.0.0.0/24
      gateway: 10.0.0.1                 # default: first address of the cidr
      dns: [10.0.0.2]                   # default: second address of the cidr (the VPC resolver)
      reserved: [10.0.0.2-10.0.0.9]     # addresses the director must not hand out
      security_group: bosh              # name
      security_group_id: sg-…           # optional (filled in by prepare)
      operator_cidr: 203.0.113.7/32     # who may reach 22, 6868, 25555
    key_pair:
      name: bosh
      private_key: ~/.ssh/bosh.pem      # must exist, mode 0400 or 0600 (relative: to this file)
    microbosh:
      static_ip: 10.0.0.6
      elastic_ip: 54.0.0.1
      instance_type: m3.xlarge
      disk_size: 20000                  # MB
      director_name: my-bosh
    bosh:
      static_ips: [10.0.0.10, …]        # in job order; see manifests/site.example.yml
      elastic_ip: 54.0.0.2              # optional: the director's public address
      instance_type: m3.medium
      director_instance_type: m3.large  # default: instance_type
      compilation_instance_type: c3.large
      compilation_workers: 3
    director:                           # optional: bosh create-env from bosh-deployment (deploy director)
      internal_ip: 10.0.0.6             # default: microbosh.static_ip
      name: my-bosh                     # default: microbosh.director_name
      vars: {}                          # more ((variables)) for the site's own ops files
    ntp: [0.pool.ntp.org, 1.pool.ntp.org]
    vars_store: ~/.bosh-offline/vars.yml  # generated secrets, mode 0600, outside the bundle

Every path in the site file (``key_pair.private_key``, ``vars_store``) is made absolute when it is
read (``site_file_path``): relative to the site file's directory, whatever the working directory.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from bundler.core.yamlfile import Fields, Located, Problems, load_yaml_with_lines


@dataclass(frozen=True)
class AwsSettings:
    region: str
    availability_zone: str
    profile: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True)
class NetworkSettings:
    subnet_id: str
    cidr: str
    gateway: str
    dns: tuple[str, ...]
    security_group: str
    reserved: tuple[str, ...] = ()
    vpc_id: str | None = None
    security_group_id: str | None = None
    operator_cidr: str = "0.0.0.0/0"


@dataclass(frozen=True)
class KeyPairSettings:
    name: str
    private_key: Path


@dataclass(frozen=True)
class MicroboshSettings:
    static_ip: str
    elastic_ip: str | None
    instance_type: str = "m3.xlarge"
    disk_size: int = 20000
    director_name: str = "my-bosh"


@dataclass(frozen=True)
class BoshSettings:
    static_ips: tuple[str, ...] = ()  # empty: derived, in job order, from the free addresses of the cidr
    instance_type: str = "m3.medium"
    compilation_instance_type: str = "c3.large"
    compilation_workers: int = 3
    elastic_ip: str | None = None  # the director's public address (optional)
    director_instance_type: str | None = None  # default: instance_type
    director_name: str = "bosh"


@dataclass(frozen=True)
class DirectorSettings:
    internal_ip: str | None = None  # default: microbosh.static_ip
    name: str | None = None  # default: microbosh.director_name
    vars: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Site:
    path: Path
    doc: Located  # for messages: site.where("network.cidr") -> "site.yml:9: network.cidr"
    name: str
    aws: AwsSettings
    network: NetworkSettings
    key_pair: KeyPairSettings
    microbosh: MicroboshSettings
    bosh: BoshSettings | None
    ntp: tuple[str, ...]
    vars_store: Path
    director: DirectorSettings = DirectorSettings()

    def where(self, key_path: str) -> str:
        return self.doc.where(key_path)


def load_site(path: Path | str) -> Site:
    """Parse ``path``; raises ``InputError`` listing every structural problem with line and key."""
    doc = load_yaml_with_lines(Path(path))
    problems = Problems(doc)
    top = Fields(problems, "", doc.data)
    name = top.string("name", "bosh")
    aws = _aws(top.sub("aws", required=True))
    network = _network(top.sub("network", required=True))
    key_pair = _key_pair(top.sub("key_pair", required=True), doc.path)
    microbosh = _microbosh(top.sub("microbosh", required=True))
    bosh_f = top.sub("bosh")
    bosh = _bosh(bosh_f) if bosh_f is not None else None
    director = _director(top.sub("director"))
    ntp = tuple(top.string_list("ntp", ["0.pool.ntp.org", "1.pool.ntp.org"]) or ())
    vars_store = top.string("vars_store", "~/.bosh-offline/vars.yml")
    top.done()
    problems.raise_if_any()
    return Site(
        path=doc.path,
        doc=doc,
        name=name,
        aws=aws,
        network=network,
        key_pair=key_pair,
        microbosh=microbosh,
        bosh=bosh,
        ntp=ntp,
        vars_store=site_file_path(vars_store, doc.path),
        director=director,
    )


def site_file_path(value: str, site_path: Path) -> Path:
    """A path given in the site file, made absolute: ``~`` is the home directory and a relative path is
    relative to the site file's directory (never to the working directory: the rendered manifests
    carry it to bosh-init, which runs elsewhere)."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(site_path).absolute().parent / path


def _aws(f: Fields | None) -> AwsSettings | None:
    if f is None:
        return None
    out = AwsSettings(
        region=f.string("region"),
        availability_zone=f.string("availability_zone"),
        profile=f.string("profile", None),
        access_key_id=f.string("access_key_id", None),
        secret_access_key=f.string("secret_access_key", None),
        endpoint_url=f.string("endpoint_url", None),
    )
    f.done()
    if bool(out.access_key_id) != bool(out.secret_access_key):
        f.problems.add(f.path("secret_access_key"), "give both access_key_id and secret_access_key, or a profile")
    return out


def _nth_address(cidr: str | None, n: int) -> str | None:
    try:
        return str(ipaddress.ip_network(cidr, strict=False)[n]) if cidr else None
    except ValueError:
        return None


def _network(f: Fields | None) -> NetworkSettings | None:
    if f is None:
        return None
    cidr = f.string("cidr")
    if cidr is not None:
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError as exc:
            f.problems.add(f.path("cidr"), f"{cidr!r} is not a network in CIDR form such as 10.0.0.0/24 ({exc})")
    out = NetworkSettings(
        subnet_id=f.string("subnet_id"),
        cidr=cidr,
        gateway=f.string("gateway", _nth_address(cidr, 1)),
        dns=tuple(f.string_list("dns", [a for a in [_nth_address(cidr, 2)] if a]) or ()),
        security_group=f.string("security_group", "bosh"),
        reserved=tuple(f.string_list("reserved", []) or ()),
        vpc_id=f.string("vpc_id", None),
        security_group_id=f.string("security_group_id", None),
        operator_cidr=f.string("operator_cidr", "0.0.0.0/0"),
    )
    f.done()
    return out


def _key_pair(f: Fields | None, site_path: Path) -> KeyPairSettings | None:
    if f is None:
        return None
    name = f.string("name")
    key = f.string("private_key")
    f.done()
    if key is None:
        return None
    return KeyPairSettings(name, site_file_path(key, site_path))


def _microbosh(f: Fields | None) -> MicroboshSettings | None:
    if f is None:
        return None
    out = MicroboshSettings(
        static_ip=f.string("static_ip"),
        elastic_ip=f.string("elastic_ip", None),
        instance_type=f.string("instance_type", "m3.xlarge"),
        disk_size=f.integer("disk_size", 20000),
        director_name=f.string("director_name", "my-bosh"),
    )
    f.done()
    return out


def _bosh(f: Fields) -> BoshSettings:
    out = BoshSettings(
        static_ips=tuple(f.string_list("static_ips", []) or ()),
        instance_type=f.string("instance_type", "m3.medium"),
        compilation_instance_type=f.string("compilation_instance_type", "c3.large"),
        compilation_workers=f.integer("compilation_workers", 3),
        elastic_ip=f.string("elastic_ip", None),
        director_instance_type=f.string("director_instance_type", None),
        director_name=f.string("director_name", "bosh"),
    )
    f.done()
    return out


def _director(f: Fields | None) -> DirectorSettings:
    if f is None:
        return DirectorSettings()
    raw = f.raw("vars", {})
    if not isinstance(raw, dict):
        f.problems.add(f.path("vars"), "expected a map of variable names to values")
        raw = {}
    out = DirectorSettings(f.string("internal_ip", None), f.string("name", None), tuple(sorted(raw.items())))
    f.done()
    return out
