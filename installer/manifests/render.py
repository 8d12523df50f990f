"""Rendering the MicroBOSH (bosh-init) and BOSH (v1) manifests from the site file, the lock and secrets.

The templates are ``manifests/microbosh.yml`` and ``manifests/bosh.yml``: the guide's two manifests
with ``((NAME))`` placeholders.  ``render`` loads a template with ``yaml.safe_load`` and replaces
each placeholder from a flat table of values built here (``_values``): site fields under their own
names (``network.cidr``), derived values (gateway ``.1``, DNS ``.2`` and the BOSH jobs' static IPs
come from the site loader or from the cidr: ``installer.site.addresses``), the CPI's keys
(``installer.site.credentials``), artifacts from the lock (``release.bosh.url`` is
``file://`` + the extracted payload path, ``release.bosh.sha1`` the lock's sha1 or, failing that,
the sha1 of the file after its sha256 has been checked) and secrets from the vars store.

While substituting, ``render`` records for every manifest key path which site field its value came
from (``Rendered.sources``), so that a problem the manifest validator finds in the rendered manifest
names the site field to change rather than a line of generated YAML.  No template engine: a
placeholder is either the whole scalar (the value keeps its type) or text inside a string.
Imports the lock, the digest, the site model, addresses and credentials, and the vars store's ``Secrets``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bundler.core.digest import hash_file
from bundler.core.errors import InputError, IntegrityError
from bundler.core.lock import Artifact, Lock
from bundler.core.problems import Problem
from installer.manifests.secrets import Secrets
from installer.site.addresses import BOSH_JOBS, DIRECTOR_JOB_INDEX, bosh_reserved, bosh_static_ips
from installer.site.credentials import Credentials
from installer.site.model import BoshSettings, Site

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "manifests"
KINDS = ("microbosh", "bosh")
RELEASES = {"microbosh": ("bosh", "bosh-aws-cpi"), "bosh": ("bosh",)}
STEMCELL_VARIANT = {"microbosh": "light", "bosh": "regular"}
SITE_SECTIONS = ("name", "aws", "network", "key_pair", "microbosh", "bosh", "ntp", "vars_store")
_PLACEHOLDER = re.compile(r"\(\(\s*([A-Za-z0-9_.\-]+)\s*\)\)")
UNKNOWN_UUID = "UNKNOWN-UNTIL-MICROBOSH-IS-UP"


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
    problems: tuple[Problem, ...] = ()  # found while rendering; ``where`` is a site field or an origin

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


# ---------------------------------------------------------------- artifacts


def artifact_files(kind: str, lock: Lock, payload: Path) -> tuple[list[ArtifactFile], list[Problem]]:
    """The releases and stemcell ``kind`` uses, with a sha1 from the lock's meta when it has one."""
    found: list[ArtifactFile] = []
    problems: list[Problem] = []
    for name in RELEASES[kind]:
        art = lock.find("release", name)
        if art is None:
            problems.append(
                Problem("lock", f"the bundle lock has no release named {name!r}; rebuild the bundle with it")
            )
            continue
        found.append(ArtifactFile(f"release.{name}", art, payload / art.path, art.meta.get("sha1")))
    variant = STEMCELL_VARIANT[kind]
    art = lock.stemcell(variant)
    if art is None:
        problems.append(
            Problem("lock", f"the bundle lock has no {variant} stemcell (needed for {kind}); rebuild the bundle")
        )
    else:
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
    sha256 = hash_file(af.path)[0]
    if sha256 != af.artifact.sha256:
        raise IntegrityError(f"{af.path}: sha256 {sha256} differs from the lock's {af.artifact.sha256}")
    sha1 = hash_file(af.path, algorithm="sha1")[0]
    if af.sha1 and sha1 != af.sha1:
        raise IntegrityError(f"{af.path}: sha1 {sha1} differs from the lock's {af.sha1}")
    return sha1


# ---------------------------------------------------------------- values and substitution


@dataclass
class _Values:
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def put(self, name: str, value: Any, origin: str | None = None) -> None:
        self.values[name] = value
        self.origins[name] = origin or name


def _values(
    site: Site,
    artifacts: list[ArtifactFile],
    secrets: Secrets,
    credentials: Credentials,
    director_uuid: str | None,
) -> _Values:
    v = _Values()
    _site_values(v, site, credentials)
    _bosh_values(v, site)
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


def _site_values(v: _Values, site: Site, credentials: Credentials) -> None:
    """The site's fields under their own names, and MicroBOSH's."""
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


def _bosh_values(v: _Values, site: Site) -> None:
    """The BOSH deployment's values: the jobs' addresses in ``BOSH_JOBS`` order, types, workers."""
    bosh = site.bosh or BoshSettings()
    ips = bosh_static_ips(site)
    v.put("bosh.static_ips", list(ips))
    for i, job in enumerate(BOSH_JOBS):
        v.put(f"bosh.ip.{job}", ips[i] if i < len(ips) else None, f"bosh.static_ips[{i}]")
    director_ip = ips[DIRECTOR_JOB_INDEX] if len(ips) > DIRECTOR_JOB_INDEX else None
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
                Problem(
                    f"lock:{af.artifact.path}",
                    f"no sha1 for {af.artifact.name} {af.artifact.version}: the lock has none and {af.path} is"
                    " missing; extract the bundle (--payload) so its sha1 can be computed",
                )
            )
        resolved.append(af)
    values = _values(site, resolved, secrets, credentials, director_uuid)
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
