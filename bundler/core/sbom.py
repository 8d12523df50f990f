"""The bundle's software bill of materials: ``sbom.cdx.json``, CycloneDX 1.6 JSON, derived from the lock.

One component per artifact, its ``bom-ref`` the artifact's payload path, with:

- a package URL: ``pkg:deb/debian/NAME@VER?arch=ARCH&distro=CODENAME`` (``ubuntu`` for Ubuntu
  targets), ``pkg:gem/NAME@VER``, ``pkg:pypi/NAME@VER`` for wheels, ``pkg:bosh/release/NAME@VER``
  and ``pkg:bosh/stemcell/NAME@VER``, ``pkg:generic/NAME@VER`` for the rest;
- its version, SHA-256 (and SHA-1 where the lock's ``meta`` has one: bosh.io publishes it);
- the lock's trust source, payload path and size as ``bosh-offline:*`` properties, the URL it was
  fetched from as a ``distribution`` reference;
- dependency edges the lock knows: a gem's runtime dependencies (``meta.dependencies``) and a deb's
  resolved Depends and Pre-Depends (``meta.depends``: the locked packages that satisfy them, by name
  or Provides), each to the locked artifact of that name.

The output is deterministic: no timestamp, components sorted, and the serial number a UUID derived
from the lock's sha256, so the same lock always gives the same bytes.  ``sbom_problems`` checks a
bundle's SBOM against its lock (``verify``).  Imports only ``bundler.core``.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bundler.core.lock import Artifact, Lock

SBOM = "sbom.cdx.json"
SPEC_VERSION = "1.6"
_PROPERTY = "bosh-offline:"
_TYPES = {"deb": "library", "gem": "library", "wheel": "library", "stemcell": "operating-system", "manifest": "file"}


def _enc(text: str) -> str:
    return urllib.parse.quote(text, safe=".-_~")


def purl(artifact: Artifact, target: Mapping[str, str]) -> str:
    """The package URL of an artifact (``target``: the lock's os/codename for debs)."""
    name, version = _enc(artifact.name), _enc(artifact.version)
    kind = artifact.kind
    if kind == "deb":
        distro = "ubuntu" if str(target.get("os", "")).lower() == "ubuntu" else "debian"
        quals = {"arch": str(artifact.meta.get("architecture") or target.get("arch") or "")}
        if target.get("codename"):
            quals["distro"] = str(target["codename"])
        tail = "&".join(f"{k}={_enc(v)}" for k, v in sorted(quals.items()) if v)
        return f"pkg:deb/{distro}/{name}@{version}" + (f"?{tail}" if tail else "")
    if kind == "gem":
        return f"pkg:gem/{name}@{version}"
    if kind == "wheel":
        return f"pkg:pypi/{_enc(artifact.name.lower().replace('_', '-'))}@{version}"
    if kind in ("release", "stemcell"):
        return f"pkg:bosh/{kind}/{name}@{version}"
    return f"pkg:generic/{name}@{version}"


def _hashes(artifact: Artifact) -> list[dict[str, str]]:
    out = [{"alg": "SHA-256", "content": artifact.sha256}]
    sha1 = artifact.meta.get("sha1")
    if isinstance(sha1, str) and len(sha1) == 40:
        out.append({"alg": "SHA-1", "content": sha1.lower()})
    return out


def _component(artifact: Artifact, target: Mapping[str, str]) -> dict[str, Any]:
    props = {"kind": artifact.kind, "path": artifact.path, "size": str(artifact.size), "trust": artifact.trust}
    out: dict[str, Any] = {
        "type": _TYPES.get(artifact.kind, "application"),
        "bom-ref": artifact.path,
        "name": artifact.name,
        "version": artifact.version,
        "purl": purl(artifact, target),
        "hashes": _hashes(artifact),
        "properties": [{"name": _PROPERTY + k, "value": v} for k, v in sorted(props.items())],
    }
    if artifact.url:
        out["externalReferences"] = [{"type": "distribution", "url": artifact.url}]
    return out


def _edges(lock: Lock) -> dict[str, list[str]]:
    """bom-ref -> the bom-refs it depends on (gems by meta.dependencies, debs by meta.depends)."""
    by_name = {(a.kind, a.name): a.path for a in lock.artifacts if a.kind in ("gem", "deb")}
    edges: dict[str, list[str]] = {}
    for a in lock.artifacts:
        names: list[str] = []
        if a.kind == "gem":
            names = [str(d[0]) for d in a.meta.get("dependencies") or () if d]
        elif a.kind == "deb":
            names = [str(d) for d in a.meta.get("depends") or ()]
        edges[a.path] = sorted({by_name[(a.kind, n)] for n in names if (a.kind, n) in by_name})
    return edges


def serial_number(lock_sha256: str) -> str:
    """``urn:uuid:…``, a version-5-shaped UUID taken from the lock's sha256 (same lock, same serial)."""
    return uuid.UUID(bytes=bytes.fromhex(lock_sha256)[:16], version=5).urn


def build_sbom(lock: Lock, lock_sha256: str, tool_version: str = "") -> dict[str, Any]:
    """The SBOM of a bundle built from ``lock`` (whose file has sha256 ``lock_sha256``)."""
    artifacts = sorted(lock.artifacts, key=lambda a: a.path)
    tool: dict[str, Any] = {"type": "application", "name": "bosh-bundle"}
    version = tool_version or lock.tool.rpartition(" ")[2]
    if version:
        tool["version"] = version
    root = {"type": "application", "bom-ref": "bundle", "name": lock.spec_name or "bundle"}
    target = {k: str(v) for k, v in sorted(lock.target.items())}
    if target:
        root["properties"] = [{"name": _PROPERTY + "target." + k, "value": v} for k, v in target.items()]
    edges = _edges(lock)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial_number(lock_sha256),
        "version": 1,
        "metadata": {"tools": {"components": [tool]}, "component": root},
        "components": [_component(a, lock.target) for a in artifacts],
        "dependencies": [{"ref": "bundle", "dependsOn": [a.path for a in artifacts]}]
        + [{"ref": a.path, "dependsOn": edges[a.path]} for a in artifacts],
    }


def dumps(sbom: Mapping[str, Any]) -> str:
    return json.dumps(sbom, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_sbom(directory: Path, lock: Lock, lock_bytes: bytes) -> Path:
    """Write ``sbom.cdx.json`` for ``lock`` (read from ``lock_bytes``) into ``directory``."""
    path = Path(directory) / SBOM
    path.write_text(dumps(build_sbom(lock, hashlib.sha256(lock_bytes).hexdigest())), encoding="utf-8")
    return path


def _component_facts(c: Mapping[str, Any]) -> tuple[Any, ...]:
    hashes = sorted((h.get("alg"), h.get("content")) for h in c.get("hashes") or () if isinstance(h, Mapping))
    props = sorted((p.get("name"), p.get("value")) for p in c.get("properties") or () if isinstance(p, Mapping))
    return c.get("name"), c.get("version"), c.get("purl"), tuple(hashes), tuple(props)


def sbom_problems(text: str, lock: Lock, lock_sha256: str) -> list[str]:
    """What in a bundle's ``sbom.cdx.json`` disagrees with its lock (empty when they agree)."""
    try:
        found = json.loads(text)
        components = {c["bom-ref"]: c for c in found["components"]}
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{SBOM}: not a CycloneDX SBOM written by bosh-bundle ({type(exc).__name__}: {exc})"]
    want = build_sbom(lock, lock_sha256)
    problems = []
    if found.get("serialNumber") != want["serialNumber"]:
        problems.append(f"{SBOM}: serialNumber {found.get('serialNumber')} is not the one of this bundle.lock")
    wanted = {c["bom-ref"]: c for c in want["components"]}
    for ref in sorted(wanted.keys() - components.keys()):
        problems.append(f"{SBOM}: no component for {ref}, which bundle.lock lists")
    for ref in sorted(components.keys() - wanted.keys()):
        problems.append(f"{SBOM}: component {ref} is not in bundle.lock")
    for ref in sorted(wanted.keys() & components.keys()):
        if _component_facts(components[ref]) != _component_facts(wanted[ref]):
            problems.append(f"{SBOM}: component {ref} (name, version, purl, hashes or trust) differs from bundle.lock")
    edges = {d.get("ref"): sorted(d.get("dependsOn") or ()) for d in found.get("dependencies") or ()}
    if edges != {d["ref"]: sorted(d["dependsOn"]) for d in want["dependencies"]}:
        problems.append(f"{SBOM}: the dependency edges differ from bundle.lock's")
    return problems
