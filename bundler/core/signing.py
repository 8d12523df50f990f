"""The bundle's OpenPGP signature: ``SHA256SUMS.gpg``, a detached signature over ``SHA256SUMS``.

``SHA256SUMS`` names every file of the bundle with its sha256 (``bundler.core.sums``), the lock and
the bundle metadata (``bundler.core.bundlemeta``: serial, expiry) among them, so one signature over
it covers everything (the layout Ubuntu uses for its images).  ``sign_sums`` runs ``gpg`` (honouring
``GNUPGHOME``); ``check_signature`` runs ``gpgv`` against one keyring file given by the operator and
names the reason of a refusal: the signature is missing, bad (the sums were changed after signing),
or made by a key that is not in the keyring.  ``gpgv`` trusts exactly the keys of that keyring and
nothing of the user's own ``gpg`` configuration, which is why it is used to check (apt does the same).

Imports only ``bundler.core``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bundler.core.errors import BundleError, InputError
from bundler.core.sums import SIGNATURE, SUMS

# A detached signature is a few hundred bytes; anything past this is not one.
MAX_SIGNATURE_BYTES = 64 * 1024


class SignatureError(BundleError):
    """The bundle's signature does not hold (exit 1: a failed check)."""

    exit_code = 1


def _need_gpg() -> None:
    if shutil.which("gpg") is None:
        raise InputError("--sign-key needs 'gpg', which is not installed")


def signing_key(key: str) -> str:
    """The fingerprint of the secret key ``key`` names in gpg's keyring; ``InputError`` when there is none."""
    _need_gpg()
    cmd = ["gpg", "--batch", "--no-tty", "--with-colons", "--list-secret-keys", "--", key]
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    fingerprints = [line.split(":")[9] for line in done.stdout.splitlines() if line.startswith("fpr:")]
    if done.returncode != 0 or not fingerprints:
        home = os.environ.get("GNUPGHOME", "~/.gnupg")
        raise InputError(
            f"--sign-key {key}: no secret key for signing in gpg's keyring ({home}); "
            "list them with 'gpg --list-secret-keys'"
        )
    return fingerprints[0]


def sign_sums(bundle: Path, key: str) -> Path:
    """Write ``SHA256SUMS.gpg`` (binary detached signature by ``key``) beside ``SHA256SUMS``."""
    bundle = Path(bundle)
    _need_gpg()
    sums = bundle / SUMS
    if not sums.is_file():
        raise InputError(f"{bundle}: no {SUMS} to sign")
    tmp = bundle / (SIGNATURE + ".tmp")
    tmp.unlink(missing_ok=True)
    cmd = ["gpg", "--batch", "--yes", "--no-tty", "--local-user", key, "--detach-sign", "--output", str(tmp), str(sums)]
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        why = _last_line(done.stderr) or f"gpg exited {done.returncode}"
        raise InputError(f"signing {sums} with key {key!r} failed: {why}")
    os.replace(tmp, bundle / SIGNATURE)
    return bundle / SIGNATURE


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def check_signature(bundle: Path, keyring: Path) -> str:
    """Check ``SHA256SUMS.gpg`` with ``gpgv --keyring KEYRING``; returns the signing key's fingerprint.

    Raises ``SignatureError`` naming the reason (missing, bad, unknown key) and ``InputError`` when
    the keyring itself cannot be used."""
    bundle, keyring = Path(bundle), Path(keyring).absolute()
    if not keyring.is_file():
        raise InputError(f"--keyring {keyring}: no such file (export the signer's key with 'gpg --export KEYID')")
    if shutil.which("gpgv") is None:
        raise InputError("--keyring needs 'gpgv' (it comes with apt on every Debian and Ubuntu)")
    signature, sums = bundle / SIGNATURE, bundle / SUMS
    if not signature.is_file() or signature.is_symlink():
        raise SignatureError(
            f"{signature}: missing: the bundle is not signed (on the connected side: 'bosh-bundle sign')"
        )
    if not sums.is_file():
        raise SignatureError(f"{sums}: missing: the signature covers nothing")
    if signature.stat().st_size > MAX_SIGNATURE_BYTES:
        raise SignatureError(f"{signature}: bad: {signature.stat().st_size} bytes is not a detached signature")
    with tempfile.TemporaryDirectory(prefix="bosh-gpgv.") as home:
        env = {**os.environ, "GNUPGHOME": home, "LC_ALL": "C"}
        cmd = ["gpgv", "--status-fd", "1", "--keyring", str(keyring), str(signature), str(sums)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    return _verdict(done, signature, keyring)


def _verdict(done: subprocess.CompletedProcess, signature: Path, keyring: Path) -> str:
    status = [line.split()[1:] for line in done.stdout.splitlines() if line.startswith("[GNUPG:] ")]
    words = {s[0]: s[1:] for s in status if s}
    if done.returncode == 0 and "GOODSIG" in words and "VALIDSIG" in words:
        return words["VALIDSIG"][0]
    if "BADSIG" in words:
        raise SignatureError(f"{signature}: bad: {SUMS} was changed after it was signed (key {words['BADSIG'][0]})")
    if "NO_PUBKEY" in words or ("ERRSIG" in words and words["ERRSIG"][-1:] == ["9"]):
        key = (words.get("NO_PUBKEY") or words.get("ERRSIG") or ["?"])[0]
        raise SignatureError(f"{signature}: unknown key: signed by {key}, which is not in the keyring {keyring}")
    for word in ("EXPKEYSIG", "REVKEYSIG", "EXPSIG"):
        if word in words:
            raise SignatureError(
                f"{signature}: bad: {word} (key {words[word][0]}): the signing key expired or was revoked"
            )
    why = _last_line(done.stderr) or f"gpgv exited {done.returncode}"
    raise SignatureError(f"{signature}: bad: not a valid signature over {SUMS} ({why})")


def signature_policy(bundle: Path, keyring: Path | None, require: bool | None) -> str | None:
    """The one policy of both CLIs: with ``keyring`` the signature must hold (and is required unless
    ``require`` is False); without it ``require`` refuses to go on.  Returns the signer or None."""
    require = keyring is not None if require is None else require
    if keyring is None:
        if require:
            raise InputError("--require-signature needs --keyring FILE (the signer's public key)")
        return None
    if not require and not (Path(bundle) / SIGNATURE).exists():
        return None
    return check_signature(bundle, keyring)
