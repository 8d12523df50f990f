"""OpenPGP signatures of apt repositories, checked by ``gpgv`` (never by us).

``gpgv_verify(signed, keyrings, detached)`` runs ``gpgv --status-fd`` in a throw-away home and
reads its machine-readable status lines: the signature is good only with a ``VALIDSIG`` from the
given keyrings and no ``BADSIG``.  For a clearsigned file the content is what gpgv writes with
``--output``, so text outside the signed part is never seen.  Armoured keyrings (``*.asc``, as in
``/etc/apt/trusted.gpg.d``) are dearmoured with ``gpg`` first.  ``keyring_paths`` splits a source's
keyring setting; ``strip_clearsign`` is the body of a clearsigned message, for sources marked trusted
whose signature was not checked.  Imports only the standard library and ``bundler.core``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bundler.core.errors import FetchError


@dataclass(frozen=True)
class Verdict:
    """gpgv's answer: ``ok`` with the signer's fingerprint and the signed content, else the reason."""

    ok: bool
    signer: str = ""
    reason: str = ""
    content: bytes = b""


def keyring_paths(keyring: str | None) -> list[str]:
    """A source's keyring: one path, or several joined with ``os.pathsep`` (apt's trusted.gpg.d fallback)."""
    return [k for k in (keyring or "").split(os.pathsep) if k]


def gpgv_verify(signed: Path, keyrings: list[str], detached: Path | None = None) -> Verdict:
    """Run gpgv on ``signed`` (clearsigned, or with the ``detached`` signature) against ``keyrings``."""
    with tempfile.TemporaryDirectory(prefix="bosh-gpgv-") as home:
        rings: list[str] = []
        for k in keyrings:
            ring, problem = _usable_keyring(k, Path(home))
            if problem:
                return Verdict(False, reason=problem)
            rings.append(ring)
        out = Path(home) / "content"
        cmd = ["gpgv", "--homedir", home, "--status-fd", "1"]
        for k in rings:
            cmd += ["--keyring", k]
        cmd += ["--output", str(out), str(signed)] if detached is None else [str(detached), str(signed)]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=120)
        except FileNotFoundError:
            raise FetchError("gpgv is not installed (apt-get install gpgv)") from None
        verdict = _verdict(proc, keyrings)
        if not verdict.ok:
            return verdict
        content = signed.read_bytes() if detached is not None else out.read_bytes()
        return Verdict(True, verdict.signer, content=content)


def _usable_keyring(keyring: str, home: Path) -> tuple[str, str]:
    """(a keyring gpgv reads, "") or ("", why not): an armoured ``.asc`` is dearmoured into ``home``."""
    if not keyring.endswith(".asc"):
        return keyring, ""
    dearmored = home / (Path(keyring).name + ".gpg")
    proc = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--yes", "--dearmor", "-o", str(dearmored), keyring],
        capture_output=True,
    )
    if proc.returncode != 0:
        return "", f"cannot read keyring {keyring}: {proc.stderr.decode(errors='replace').strip()}"
    return str(dearmored), ""


def _verdict(proc: subprocess.CompletedProcess, keyrings: list[str]) -> Verdict:
    """gpgv's ``[GNUPG:]`` status lines into a verdict (content not yet read)."""
    status = [ln.split()[1:] for ln in proc.stdout.decode(errors="replace").splitlines() if ln.startswith("[GNUPG:] ")]
    kinds = {s[0] for s in status if s}
    valid = [s[1] for s in status if s and s[0] == "VALIDSIG" and len(s) > 1]
    if "BADSIG" in kinds:
        return Verdict(False, reason="BAD signature")
    if not valid:
        if "NO_PUBKEY" in kinds or "ERRSIG" in kinds:
            missing = ", ".join(s[1] for s in status if s and s[0] == "NO_PUBKEY" and len(s) > 1) or "?"
            return Verdict(False, reason=f"no public key in {', '.join(keyrings)} for signer {missing}")
        if "NODATA" in kinds:
            return Verdict(False, reason="not a signed file")
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        return Verdict(False, reason=err[-1] if err else f"gpgv exited {proc.returncode}")
    if proc.returncode != 0:
        return Verdict(False, reason=f"gpgv exited {proc.returncode}")
    return Verdict(True, valid[0])


def strip_clearsign(text: str) -> str:
    """The body of a clearsigned message (only used for sources marked trusted)."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("-----BEGIN PGP SIGNED MESSAGE-----"):
        return text
    body = []
    started = False
    for line in lines[1:]:
        if not started:
            started = line == ""
            continue
        if line.startswith("-----BEGIN PGP SIGNATURE-----"):
            break
        body.append(line[2:] if line.startswith("- ") else line)
    return "\n".join(body) + "\n"
