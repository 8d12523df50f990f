"""A BOSH stemcell's ``stemcell.MF``: the type, its reader, its validator, and the AMI-per-region question.

``StemcellManifest`` mirrors ``stemcell.MF`` field for field; ``parse_stemcell`` reads it from a
``TarballScan``; ``validate_stemcell`` returns *every* problem with the tarball's insides: a heavy
stemcell's ``image`` must match the sha1 its manifest gives, a light one's ``image`` is empty and
its ``cloud_properties.ami`` maps regions to AMI ids.  Entry names may start with ``./`` (what
``bosh repack-stemcell`` writes; bosh-init and bosh v7 accept it), so ``./stemcell.MF`` and
``./image`` are read as ``stemcell.MF`` and ``image``.  ``region_problem`` says why a light
stemcell cannot serve a region, as the AWS CPI would.  Problems are sentences (strings): ``check.py``
gives them the artifact as their place.

Imports only ``bundler.core.bosh``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bundler.core.awsnames import region_of_zone
from bundler.core.bosh.manifest import load_manifest, text
from bundler.core.bosh.tarball import TarballScan, scan_problem

_AMI = re.compile(r"^ami-[0-9a-f]{8,17}$")


@dataclass(frozen=True)
class StemcellManifest:
    """``stemcell.MF``."""

    name: str
    version: str
    bosh_protocol: str = ""
    sha1: str = ""  # of ``image`` (of the original heavy image for a light stemcell)
    operating_system: str = ""
    cloud_properties: Mapping[str, Any] = field(default_factory=dict)
    api_version: int | None = None
    stemcell_formats: tuple[str, ...] = ()

    @property
    def ami(self) -> dict[str, str]:
        ami = self.cloud_properties.get("ami")
        return {str(k): str(v) for k, v in ami.items()} if isinstance(ami, Mapping) else {}


def parse_stemcell(scan: TarballScan) -> tuple[StemcellManifest | None, list[str]]:
    problems: list[str] = []
    data = scan.small.get("stemcell.MF")
    if data is None:
        return None, ["stemcell.MF is missing"]
    doc = load_manifest(data, "stemcell.MF", problems)
    if doc is None:
        return None, problems
    for key in ("name", "version", "operating_system"):
        if not doc.get(key):
            problems.append(f"stemcell.MF has no '{key}'")
    cloud = doc.get("cloud_properties") or {}
    if not isinstance(cloud, dict):
        problems.append("stemcell.MF 'cloud_properties' is not a mapping")
        cloud = {}
    api = doc.get("api_version")
    return (
        StemcellManifest(
            name=text(doc.get("name")),
            version=text(doc.get("version")),
            bosh_protocol=text(doc.get("bosh_protocol")),
            sha1=text(doc.get("sha1")).lower(),
            operating_system=text(doc.get("operating_system")),
            cloud_properties=cloud,
            api_version=api if isinstance(api, int) else None,
            stemcell_formats=tuple(text(f) for f in doc.get("stemcell_formats") or ()),
        ),
        problems,
    )


def is_light(scan: TarballScan, manifest: StemcellManifest | None) -> bool:
    image = scan.members.get("image")
    return bool(manifest and manifest.ami) or (image is not None and image.size == 0)


def validate_stemcell(scan: TarballScan, manifest: StemcellManifest | None, variant: str | None = None) -> list[str]:
    """Every problem with a stemcell's insides.  ``variant`` ("light"/"regular") is what the lock expects;
    ``None`` takes what the tarball looks like."""
    problems: list[str] = []
    if scan.error:
        problems.append(scan_problem(scan) or "")
    if manifest is None:
        return problems
    image = scan.members.get("image")
    light = is_light(scan, manifest) if variant is None else variant == "light"
    if image is None:
        if not scan.error:
            problems.append("image is missing from the tarball")
    elif light:
        if image.size != 0:
            problems.append(f"image has {image.size} bytes; a light stemcell's image is empty")
        if not manifest.ami:
            problems.append("stemcell.MF has no cloud_properties.ami map; a light stemcell names its AMIs there")
        for region, ami in sorted(manifest.ami.items()):
            if not _AMI.match(ami):
                problems.append(f"stemcell.MF cloud_properties.ami.{region} {ami!r} is not an AMI id")
    elif image.size == 0:
        problems.append("image is empty: this is a light stemcell, the lock expects a regular one")
    elif not manifest.sha1:
        problems.append("stemcell.MF has no 'sha1' for image")
    elif image.sha1 != manifest.sha1:
        problems.append(f"image sha1 {image.sha1} does not match stemcell.MF {manifest.sha1}")
    return problems


def region_problem(manifest: StemcellManifest, region: str) -> str | None:
    """Why a light stemcell cannot be used in ``region`` (the CPI's "does not contain an AMI for this region")."""
    ami = manifest.ami
    if region in ami:
        return None
    zone_region = region_of_zone(region)
    hint = f" ({region!r} looks like an availability zone; the region is {zone_region!r})" if zone_region else ""
    return (
        f"stemcell.MF cloud_properties.ami has no AMI for region {region}{hint};"
        f" it has: {', '.join(sorted(ami)) or 'none'}"
    )
