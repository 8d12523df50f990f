"""Rendering the MicroBOSH (bosh-init) and BOSH (v1) manifests from the site file, the lock and secrets.

The templates are ``manifests/microbosh.yml`` and ``manifests/bosh.yml``: the guide's two manifests
with ``((NAME))`` placeholders.  ``render`` loads a template with ``yaml.safe_load`` and replaces
each placeholder from a flat table of values built here (``_values``): site fields under their own
names (``network.cidr``), derived values (gateway ``.1``, DNS ``.2`` and the BOSH jobs' static IPs
come from the site loader or from the cidr), artifacts from the lock (``release.bosh.url`` is
``file://`` + the extracted payload path, ``release.bosh.sha1`` the lock's sha1 or, failing that,
the sha1 of the file after its sha256 has been checked) and secrets from the vars store.

While substituting, ``render`` records for every manifest key path which site field its value came
from (``Rendered.sources``), so that a problem the manifest validator finds in the rendered manifest
names the site field to change rather than a line of generated YAML.  No template engine: a
placeholder is either the whole scalar (the value keeps its type) or text inside a string.
"""

from __future__ import annotations

import configparser
import hashlib
import ipaddress
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bundler.core.errors import InputError, IntegrityError
from bundler.core.lock import Artifact, Lock
from installer.manifests.secrets import Secrets
from installer.site.model import BoshSettings, Site

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "manifests"
KINDS = ("microbosh", "bosh")
# The BOSH v1 jobs, in the order their static IPs are taken from ``bosh.static_ips``.
BOSH_JOBS = ("postgres", "nats", "redis", "blobstore", "registry", "director", "health_monitor")
RELEASES = {"microbosh": ("bosh", "bosh-aws-cpi"), "bosh": ("bosh",)}
STEMCELL_VARIANT = {"microbosh": "light", "bosh": "regular"}
SITE_SECTIONS = ("name", "aws", "network", "key_pair", "microbosh", "bosh", "ntp", "vars_store")
_PLACEHOLDER = re.compile(r"\(\(\s*([A-Za-z0-9_.\-]+)\s*\)\)")
UNKNOWN_UUID = "UNKNOWN-UNTIL-MICROBOSH-IS-UP"


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    source: str  # "site file" or "profile NAME in FILE"


@dataclass(frozen=True)
class ArtifactFile:
    """A release or stemcell of the lock, where it lies after extraction, and its sha1 if known."""

    role: str  # release.bosh, stemcell.light …
    artifact: Artifact
    path: Path
    sha1: str | None

    @property
    def url(self) -> str:
        return "file://" + str(self.path)


@dataclass(frozen=True)
class Rendered:
    kind: str
    manifest: dict[str, Any]
    sources: Mapping[str, str]  # manifest key path -> where its value came from (site field, lock:…, secret:…)
    artifacts: tuple[ArtifactFile, ...] = ()
    problems: tuple[tuple[str, str], ...] = ()  # (site field or origin, message) found while rendering

    @property
    def text(self) -> str:
        return dump(self.manifest, self.kind)

    def source_of(self, manifest_path: str) -> str | None:
        """The origin of ``manifest_path`` or of its nearest parent that has one."""
        probe = manifest_path
        while probe:
            if probe in self.sources:
                return self.sources[probe]
            probe = probe[: probe.rindex("[")] if probe.endswith("]") else probe.rpartition(".")[0]
        return None


# ---------------------------------------------------------------- addresses


def parse_range(text: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    """``10.0.0.2-10.0.0.9``, ``10.0.0.2 - 10.0.0.9`` or one address; ValueError if malformed."""
    first, sep, last = str(text).partition("-")
    a = ipaddress.IPv4Address(first.strip())
    b = ipaddress.IPv4Address(last.strip()) if sep else a
    if b < a:
        raise ValueError(f"{text!r}: the range ends before it starts")
    return a, b


def _network(site: Site) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(site.network.cidr, strict=True)
    except (ValueError, TypeError):
        return None


def _ip(text: str | None) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(text) if text else None
    except ValueError:
        return None


def reserved_addresses(site: Site) -> set[ipaddress.IPv4Address]:
    out: set[ipaddress.IPv4Address] = set()
    for entry in site.network.reserved:
        try:
            a, b = parse_range(entry)
        except ValueError:
            continue
        if int(b) - int(a) > 65536:
            continue
        out.update(ipaddress.IPv4Address(i) for i in range(int(a), int(b) + 1))
    return out


def aws_reserved(net: ipaddress.IPv4Network) -> set[ipaddress.IPv4Address]:
    """AWS keeps the first four addresses of a subnet and its last one."""
    return {net.network_address + i for i in range(4)} | {net.broadcast_address}


def bosh_static_ips(site: Site) -> tuple[str, ...]:
    """The site's ``bosh.static_ips`` or, if empty, the first free addresses of the subnet in job order."""
    bosh = site.bosh or BoshSettings()
    if bosh.static_ips:
        return bosh.static_ips
    net = _network(site)
    if net is None:
        return ()
    taken = aws_reserved(net) | reserved_addresses(site)
    taken |= {a for a in (_ip(site.network.gateway), _ip(site.microbosh.static_ip)) if a}
    taken |= {a for a in map(_ip, site.network.dns) if a}
    free: list[str] = []
    for host in net.hosts():
        if host not in taken:
            free.append(str(host))
            if len(free) == len(BOSH_JOBS):
                break
    return tuple(free)


def bosh_reserved(site: Site) -> list[str]:
    """The site's reserved ranges plus MicroBOSH's address, which the BOSH director must not hand out."""
    out = [_spaced(r) for r in site.network.reserved]
    mb = _ip(site.microbosh.static_ip)
    if mb is not None and mb not in reserved_addresses(site):
        out.append(str(mb))
    return out


def _spaced(entry: str) -> str:
    first, sep, last = str(entry).partition("-")
    return f"{first.strip()} - {last.strip()}" if sep else first.strip()


# ---------------------------------------------------------------- artifacts and credentials


def artifact_files(kind: str, lock: Lock, payload: Path) -> tuple[list[ArtifactFile], list[tuple[str, str]]]:
    """The releases and stemcell ``kind`` uses, with a sha1 from the lock's meta when it has one."""
    found: list[ArtifactFile] = []
    problems: list[tuple[str, str]] = []
    for name in RELEASES[kind]:
        art = lock.find("release", name)
        if art is None:
            problems.append(("lock", f"the bundle lock has no release named {name!r}; rebuild the bundle with it"))
            continue
        found.append(ArtifactFile(f"release.{name}", art, payload / art.path, art.meta.get("sha1")))
    variant = STEMCELL_VARIANT[kind]
    stemcells = [a for a in lock.by_kind("stemcell") if a.meta.get("variant", "regular") == variant]
    if not stemcells:
        problems.append(("lock", f"the bundle lock has no {variant} stemcell (needed for {kind}); rebuild the bundle"))
    else:
        art = stemcells[0]
        found.append(ArtifactFile(f"stemcell.{variant}", art, payload / art.path, art.meta.get("sha1")))
    return found, problems


def verify_file(af: ArtifactFile) -> str:
    """Check the extracted file against the lock (size, sha256) and return its sha1."""
    try:
        size = af.path.stat().st_size
    except FileNotFoundError:
        raise InputError(
            f"{af.path}: missing ({af.artifact.kind} {af.artifact.name}); extract the bundle first"
        ) from None
    if size != af.artifact.size:
        raise IntegrityError(f"{af.path}: {size} bytes, the lock says {af.artifact.size}; extract the bundle again")
    sha256, sha1 = hashlib.sha256(), hashlib.sha1()
    with open(af.path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            sha256.update(chunk)
            sha1.update(chunk)
    if sha256.hexdigest() != af.artifact.sha256:
        raise IntegrityError(f"{af.path}: sha256 {sha256.hexdigest()} differs from the lock's {af.artifact.sha256}")
    if af.sha1 and sha1.hexdigest() != af.sha1:
        raise IntegrityError(f"{af.path}: sha1 {sha1.hexdigest()} differs from the lock's {af.sha1}")
    return sha1.hexdigest()


def aws_credentials(site: Site) -> Credentials:
    """Keys from the site file, or from a profile in the shared credentials file (read locally only)."""
    aws = site.aws
    if aws.access_key_id and aws.secret_access_key:
        return Credentials(aws.access_key_id, aws.secret_access_key, "site file")
    profile = aws.profile or "default"
    files = [
        Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")).expanduser(),
        Path(os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")).expanduser(),
    ]
    for path in files:
        parser = configparser.ConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error:
            continue
        for section in (profile, f"profile {profile}"):
            if parser.has_section(section):
                key = parser.get(section, "aws_access_key_id", fallback=None)
                secret = parser.get(section, "aws_secret_access_key", fallback=None)
                if key and secret:
                    return Credentials(key, secret, f"profile {profile} in {path}")
    raise InputError(
        f"{site.where('aws.profile')}: no keys for profile {profile!r} in {' or '.join(map(str, files))}; "
        "give aws.access_key_id and aws.secret_access_key, or a profile that has them"
    )


# ---------------------------------------------------------------- values and substitution


@dataclass
class _Values:
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def put(self, name: str, value: Any, origin: str | None = None) -> None:
        self.values[name] = value
        self.origins[name] = origin or name


def _values(
    kind: str,
    site: Site,
    artifacts: list[ArtifactFile],
    secrets: Secrets,
    credentials: Credentials,
    director_uuid: str | None,
) -> _Values:
    v = _Values()
    v.put("name", site.name)
    v.put("aws.region", site.aws.region)
    v.put("aws.availability_zone", site.aws.availability_zone)
    v.put("aws.access_key_id", credentials.access_key_id, "aws.access_key_id")
    v.put("aws.secret_access_key", credentials.secret_access_key, "aws.secret_access_key")
    v.put("network.cidr", site.network.cidr)
    v.put("network.gateway", site.network.gateway)
    v.put("network.dns", list(site.network.dns))
    v.put("network.subnet_id", site.network.subnet_id)
    v.put("network.security_group", site.network.security_group)
    v.put("key_pair.name", site.key_pair.name)
    v.put("key_pair.private_key", str(site.key_pair.private_key))
    v.put("ntp", list(site.ntp))
    mb = site.microbosh
    v.put("microbosh.static_ip", mb.static_ip)
    v.put("microbosh.elastic_ip", mb.elastic_ip)
    v.put("microbosh.address", mb.elastic_ip or mb.static_ip, "microbosh.elastic_ip" if mb.elastic_ip else None)
    if not mb.elastic_ip:
        v.origins["microbosh.address"] = "microbosh.static_ip"
    v.put("microbosh.instance_type", mb.instance_type)
    v.put("microbosh.disk_size", mb.disk_size)
    v.put("microbosh.director_name", mb.director_name)
    bosh = site.bosh or BoshSettings()
    ips = bosh_static_ips(site)
    v.put("bosh.static_ips", list(ips))
    for i, job in enumerate(BOSH_JOBS):
        v.put(f"bosh.ip.{job}", ips[i] if i < len(ips) else None, f"bosh.static_ips[{i}]")
    director_ip = ips[BOSH_JOBS.index("director")] if len(ips) > BOSH_JOBS.index("director") else None
    v.put("bosh.reserved", bosh_reserved(site), "network.reserved")
    v.put("bosh.elastic_ip", bosh.elastic_ip)
    v.put("bosh.director_address", bosh.elastic_ip or director_ip, "bosh.elastic_ip" if bosh.elastic_ip else None)
    if not bosh.elastic_ip:
        v.origins["bosh.director_address"] = "bosh.static_ips"
    v.put("bosh.dns_recursor", site.network.dns[0] if site.network.dns else None, "network.dns")
    v.put("bosh.instance_type", bosh.instance_type)
    v.put("bosh.director_instance_type", bosh.director_instance_type or bosh.instance_type)
    v.put("bosh.compilation_instance_type", bosh.compilation_instance_type)
    v.put("bosh.compilation_workers", bosh.compilation_workers)
    v.put("bosh.director_name", bosh.director_name)
    v.put("director_uuid", director_uuid or UNKNOWN_UUID, "director_uuid (read from MicroBOSH: bosh status --uuid)")
    for af in artifacts:
        origin = f"lock:{af.artifact.path}"
        v.put(f"{af.role}.url", af.url, origin)
        v.put(f"{af.role}.sha1", af.sha1, origin)
        v.put(f"{af.role}.name", af.artifact.name, origin)
        v.put(f"{af.role}.version", af.artifact.version, origin)
    for name, value in secrets.values_by_name.items():
        v.put(f"secret.{name}", value, f"secret:{secrets.deployment}.{name}")
    return v


def _join(parent: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def _substitute(node: Any, path: str, values: _Values, sources: dict[str, str], missing: list[str]) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(val, _join(path, k), values, sources, missing) for k, val in node.items()}
    if isinstance(node, list):
        return [_substitute(item, _join(path, i), values, sources, missing) for i, item in enumerate(node)]
    if not isinstance(node, str) or "((" not in node:
        return node
    whole = _PLACEHOLDER.fullmatch(node.strip())
    if whole:
        name = whole.group(1)
        if name not in values.values:
            missing.append(f"{path}: (({name}))")
            return node
        sources[path] = values.origins[name]
        return values.values[name]

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values.values:
            missing.append(f"{path}: (({name}))")
            return match.group(0)
        sources.setdefault(path, values.origins[name])
        value = values.values[name]
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(one, node)


def load_template(kind: str) -> Any:
    path = TEMPLATE_DIR / f"{kind}.yml"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: manifest template missing (the installer is incomplete)") from None


def render(
    kind: str,
    site: Site,
    lock: Lock,
    payload: Path,
    secrets: Secrets,
    credentials: Credentials,
    director_uuid: str | None = None,
    hash_missing_sha1: bool = True,
) -> Rendered:
    """Render ``kind``'s manifest.  Problems met on the way (no sha1 known …) are returned, not raised."""
    if kind not in KINDS:
        raise ValueError(kind)
    artifacts, problems = artifact_files(kind, lock, Path(payload))
    resolved: list[ArtifactFile] = []
    for af in artifacts:
        if af.sha1 is None and hash_missing_sha1 and af.path.exists():
            af = ArtifactFile(af.role, af.artifact, af.path, verify_file(af))
        if af.sha1 is None:
            problems.append(
                (
                    f"lock:{af.artifact.path}",
                    f"no sha1 for {af.artifact.name} {af.artifact.version}: the lock has none and {af.path} is"
                    " missing; extract the bundle (--payload) so its sha1 can be computed",
                )
            )
        resolved.append(af)
    values = _values(kind, site, resolved, secrets, credentials, director_uuid)
    sources: dict[str, str] = {}
    missing: list[str] = []
    manifest = _substitute(load_template(kind), "", values, sources, missing)
    if missing:
        raise InputError(f"{TEMPLATE_DIR / (kind + '.yml')}: unknown placeholders: {', '.join(missing)}")
    _drop_absent_public_network(kind, manifest, site)
    return Rendered(kind, manifest, sources, tuple(resolved), tuple(problems))


def _drop_absent_public_network(kind: str, manifest: dict[str, Any], site: Site) -> None:
    """Without an elastic IP the vip network and the job's address on it are left out."""
    if kind == "microbosh" and not site.microbosh.elastic_ip:
        vip = "public"
    elif kind == "bosh" and not (site.bosh or BoshSettings()).elastic_ip:
        vip = "elastic"
    else:
        return
    manifest["networks"] = [n for n in manifest["networks"] if n.get("name") != vip]
    for job in manifest["jobs"]:
        job["networks"] = [n for n in job.get("networks", []) if n.get("name") != vip]


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(manifest: Mapping[str, Any], kind: str) -> str:
    header = (
        f"# {kind} manifest rendered by bosh-install from the site file, the bundle lock and the vars store.\n"
        "# It contains generated secrets: keep it private. Edit the site file and render again instead.\n"
    )
    return header + yaml.dump(dict(manifest), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)


def write(rendered: Rendered, out_dir: Path) -> Path:
    """Write ``out_dir/<kind>.yml`` (mode 0600: it holds secrets) atomically."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = out_dir / f"{rendered.kind}.yml"
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(rendered.text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def iter_paths(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key path, value) of a manifest, parents first."""
    yield path, node
    if isinstance(node, dict):
        for k, val in node.items():
            yield from iter_paths(val, _join(path, k))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from iter_paths(item, _join(path, i))
