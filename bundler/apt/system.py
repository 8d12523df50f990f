"""This machine's apt sources (``apt: {sources: system}``), read the way apt reads them.

Files: ``/etc/apt/sources.list``, ``/etc/apt/sources.list.d/*.list`` (one-line ``deb [opts] URL SUITE
COMP…``) and ``/etc/apt/sources.list.d/*.sources`` (deb822 stanzas with ``Types``, ``URIs``, ``Suites``,
``Components``, ``Signed-By``, ``Enabled``, ``Trusted``, read by the one deb822 reader in
``bundler.core.deb.deb822``).  Any other suffix (``*.disabled-by-farm``, ``*.save``) is ignored, as
apt ignores it.  Only ``deb`` entries are kept (not ``deb-src``).

Keyrings: ``signed-by`` names the keyring file; without it apt trusts ``/etc/apt/trusted.gpg`` and
``/etc/apt/trusted.gpg.d/*.{gpg,asc}``, which we pass on joined with ``os.pathsep``.  An inline
``Signed-By`` key block or a fingerprint list is not supported (the error says so).

Imports ``bundler.core`` and the spec (``AptSource`` and its one-line options parser).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from bundler.core.deb.deb822 import parse_stanzas
from bundler.core.errors import InputError
from bundler.spec import AptSource, split_source_options

log = logging.getLogger(__name__)

APT_ETC = Path("/etc/apt")


def fallback_keyring(etc: Path = APT_ETC) -> str | None:
    rings = []
    if (etc / "trusted.gpg").is_file():
        rings.append(str(etc / "trusted.gpg"))
    d = etc / "trusted.gpg.d"
    if d.is_dir():
        rings += sorted(str(p) for p in d.iterdir() if p.suffix in (".gpg", ".asc") and p.is_file())
    return os.pathsep.join(rings) or None


def _source(where: str, url: str, suites: list[str], comps: list[str], options: dict[str, str], etc: Path):
    signed_by = options.get("signed-by")
    trusted = options.get("trusted", "").lower() == "yes"
    if signed_by and ("BEGIN PGP" in signed_by or not signed_by.strip().startswith("/")):
        raise InputError(
            f"{where}: Signed-By must name a keyring file (inline keys and fingerprints are not supported);"
            " put the key in a file or give the source in the spec"
        )
    keyring = signed_by.strip() if signed_by else fallback_keyring(etc)
    return AptSource(url.rstrip("/"), tuple(suites), tuple(comps), keyring, trusted)


def parse_list_file(text: str, where: str, etc: Path = APT_ETC) -> list[AptSource]:
    """One-line sources (``deb [signed-by=K arch=amd64] URL SUITE COMP…``)."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] != "deb":
            continue
        options, words = split_source_options(words[1:])
        if len(words) < 2:
            raise InputError(f"{where}:{n}: expected 'deb [options] URL SUITE COMPONENT…'")
        out.append(_source(f"{where}:{n}", words[0], [words[1]], words[2:], options, etc))
    return out


def parse_sources_file(text: str, where: str, etc: Path = APT_ETC) -> list[AptSource]:
    """deb822 ``*.sources``: one AptSource per stanza (and per URI)."""
    out = []
    for i, stanza in enumerate(parse_stanzas(text)):
        fields = {key.strip().lower(): value for key, value in stanza.items()}  # apt's field names ignore case
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in fields.get("types", "").split():
            continue
        uris, suites = fields.get("uris", "").split(), fields.get("suites", "").split()
        if not uris or not suites:
            raise InputError(f"{where}: stanza {i + 1}: needs URIs and Suites")
        options = {"signed-by": fields.get("signed-by", ""), "trusted": fields.get("trusted", "")}
        if not options["signed-by"]:
            del options["signed-by"]
        for uri in uris:
            out.append(
                _source(f"{where}: stanza {i + 1}", uri, suites, fields.get("components", "").split(), options, etc)
            )
    return out


def read_system_sources(etc: Path = APT_ETC) -> list[AptSource]:
    """Every enabled ``deb`` source of this machine, in apt's file order."""
    files: list[Path] = []
    if (etc / "sources.list").is_file():
        files.append(etc / "sources.list")
    d = etc / "sources.list.d"
    if d.is_dir():
        files += sorted(p for p in d.iterdir() if p.suffix in (".list", ".sources") and p.is_file())
    out: list[AptSource] = []
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        out += parse_sources_file(text, str(f), etc) if f.suffix == ".sources" else parse_list_file(text, str(f), etc)
    if not out:
        raise InputError(f"no enabled 'deb' sources in {etc}/sources.list or {etc}/sources.list.d/*.list|*.sources")
    log.debug("system apt sources: %s", out)
    return out
