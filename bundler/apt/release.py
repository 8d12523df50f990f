"""The Release file of one suite: what it lists, and whether we trust it.

``dists/SUITE/InRelease`` (clearsigned) or ``Release`` + ``Release.gpg`` is the root of trust of an
apt repository: ``verify_release`` checks it with gpgv (``bundler.apt.gpg``) against the source's
keyring and returns only the text gpgv says is signed.  A source marked ``trusted: true`` skips the
check (a bad or missing signature is then only logged) and its artifacts are recorded as
``trusted-by-spec``.  ``parse_release`` reads the text with the one deb822 reader: its single-line
fields, and the ``SHA256:`` lines ``hash size path`` as ``IndexFile`` entries, from which every
index (and through it every ``.deb``) is checked.

Imports ``bundler.core`` (deb822, errors), ``bundler.apt.gpg`` and the spec's ``AptSource``.
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from bundler.apt.gpg import gpgv_verify, keyring_paths, strip_clearsign
from bundler.core.deb.deb822 import parse_stanza
from bundler.core.errors import IntegrityError
from bundler.spec import AptSource

log = logging.getLogger(__name__)

TRUST_SIGNED = "apt-release-signature"
TRUST_SPEC = "trusted-by-spec"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class IndexFile:
    """A file a Release lists under ``SHA256:`` (an index: Packages, Sources, in any compression)."""

    path: str  # relative to dists/SUITE/, e.g. "main/binary-amd64/Packages.xz"
    sha256: str
    size: int


@dataclass(frozen=True)
class Release:
    """A verified Release file of one suite of one source."""

    source: AptSource
    suite: str
    fields: dict[str, str]  # single-line fields: Origin, Codename, Date, Architectures, ...
    entries: dict[str, IndexFile]  # path -> entry, from the SHA256 section
    trust: str  # TRUST_SIGNED or TRUST_SPEC
    signer: str = ""  # fingerprint of the key that signed (empty when not verified)

    @property
    def root(self) -> str:
        return self.source.url.rstrip("/")

    @property
    def dists_url(self) -> str:
        return f"{self.root}/dists/{self.suite}"

    def entry(self, path: str) -> IndexFile | None:
        return self.entries.get(path)

    def url_of(self, pool_path: str) -> str:
        """URL of a file named relative to the repository root (a Packages ``Filename``).

        Even a signed index may not point outside the repository: an absolute path, a ``..`` part or a
        backslash is refused (a compromised or careless mirror could otherwise steer downloads)."""
        parts = pool_path.split("/")
        if pool_path.startswith("/") or "\\" in pool_path or any(p in ("", ".", "..") for p in parts):
            raise IntegrityError(
                f"{self.dists_url}: Packages names the file {pool_path!r}, which is not inside the repository"
            )
        return f"{self.root}/{pool_path}"

    @property
    def by_hash(self) -> bool:
        return self.fields.get("Acquire-By-Hash", "").lower() == "yes"

    @property
    def date(self) -> str:
        return self.fields.get("Date", "")

    @property
    def valid_until(self) -> str:
        return self.fields.get("Valid-Until", "")


def release_time(text: str) -> datetime | None:
    """A Release date (RFC 2822, ``Sat, 28 Nov 2026 14:09:31 UTC``) as an aware datetime, None if unreadable."""
    try:
        got = parsedate_to_datetime(text.replace(" UTC", " +0000"))
    except (TypeError, ValueError, IndexError):
        return None
    return got if got.tzinfo is not None else got.replace(tzinfo=timezone.utc)


def check_fresh(release: Release, now: datetime | None = None) -> None:
    """apt refuses a Release past its ``Valid-Until`` (an attacker or a stale mirror replaying old
    indexes); so do we, unless the source is a frozen mirror (a snapshot) marked ``frozen: true``."""
    if not release.valid_until:
        return
    until = release_time(release.valid_until)
    if until is None:
        raise IntegrityError(f"{release.dists_url}: Release has an unreadable Valid-Until {release.valid_until!r}")
    now = now or datetime.now(timezone.utc)
    if until >= now:
        return
    if release.source.frozen:
        log.info("%s: expired on %s; accepted: the mirror is marked frozen", release.dists_url, release.valid_until)
        return
    raise IntegrityError(
        f"{release.dists_url}: the Release expired on {release.valid_until} (Valid-Until; dated {release.date}):"
        " the mirror is stale or replayed; use a current mirror, or mark the source 'frozen: true'"
        " (apt: {sources: system, frozen: true} for this machine's) if it is a snapshot on purpose"
    )


def parse_release(text: str) -> tuple[dict[str, str], dict[str, IndexFile]]:
    """(first line of every field, the ``SHA256:`` entries by path) of a Release text."""
    stanza = parse_stanza(text)
    fields = {key: value.partition("\n")[0] for key, value in stanza.items()}
    entries: dict[str, IndexFile] = {}
    for line in stanza.get("SHA256", "").split("\n"):
        parts = line.split()
        if len(parts) == 3 and _SHA256.fullmatch(parts[0]) and parts[1].isdigit():
            entries[parts[2]] = IndexFile(parts[2], parts[0], int(parts[1]))
    return fields, entries


def verify_release(
    source: AptSource, suite: str, data: bytes, clearsigned: bool, detached: bytes | None
) -> tuple[str, str, str]:
    """(signed text, trust, signer) of a downloaded InRelease (``clearsigned``) or Release (+ ``detached``)."""
    where = f"{source.url.rstrip('/')}/dists/{suite}/{'InRelease' if clearsigned else 'Release'}"
    if not clearsigned and detached is None:
        reason = "no signature (Release.gpg missing)"
    elif not keyring_paths(source.keyring):
        reason = "no keyring given"
    else:
        with tempfile.TemporaryDirectory(prefix="bosh-release-") as tmp:
            signed = Path(tmp) / ("InRelease" if clearsigned else "Release")
            signed.write_bytes(data)
            sig = None
            if detached is not None:
                sig = Path(tmp) / "Release.gpg"
                sig.write_bytes(detached)
            verdict = gpgv_verify(signed, keyring_paths(source.keyring), sig)
        if verdict.ok:
            log.debug("%s: good signature by %s", where, verdict.signer)
            return verdict.content.decode("utf-8", errors="replace"), TRUST_SIGNED, verdict.signer
        reason = verdict.reason
    if not source.trusted:
        raise IntegrityError(
            f"{where}: signature check failed: {reason}; fix the keyring (signed-by) or mark the source"
            " 'trusted: true' to accept it unsigned"
        )
    log.warning("%s: %s; accepted because the source is marked trusted", where, reason)
    text = data.decode("utf-8", errors="replace")
    if clearsigned:
        text = strip_clearsign(text)
    return text, TRUST_SPEC, ""
