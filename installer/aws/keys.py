"""Key pair fingerprints as AWS computes them, from the operator's local private key file.

AWS shows one fingerprint per key pair, computed differently depending on how the pair was made:

  created by AWS (RSA)    SHA-1 of the private key in DER PKCS#8 form, hex pairs joined by ``:``
  imported (RSA)          MD5 of the public key in DER SubjectPublicKeyInfo form, hex pairs
  ED25519 (either way)    SHA-256 of the OpenSSH public key blob, base64 (``ssh-keygen -l`` style)

AWS-compatible endpoints differ: moto's server fingerprints a created RSA key with SHA-1 and an
ED25519 key with SHA-256 of the DER public key, in hex pairs.  Those forms are accepted too (they
are digests of the same public key, so they cannot match a different key).

So a local key matches a key pair when any of its fingerprints equals the one AWS reports.  The
file formats read here are PEM ``RSA PRIVATE KEY`` (PKCS#1, what AWS hands out), ``PRIVATE KEY``
(PKCS#8) and unencrypted ``OPENSSH PRIVATE KEY`` (what ``ssh-keygen`` writes), with a few lines of
DER instead of a cryptography dependency: the installer's runtime on the target stays small.
Imports only ``bundler.core.errors``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from bundler.core.errors import InputError

_RSA_OID = bytes.fromhex("06092a864886f70d010101")  # rsaEncryption
_ALGORITHM = b"\x30\x0d" + _RSA_OID + b"\x05\x00"
_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----\s*(.*?)\s*-----END \1-----", re.S)


@dataclass(frozen=True)
class LocalKey:
    path: Path
    kind: str  # "rsa" or "ed25519"
    fingerprints: tuple[str, ...]  # every form AWS might show for this key
    public_openssh: str = ""  # "ssh-rsa AAAA…", what ImportKeyPair takes

    def matches(self, aws_fingerprint: str) -> bool:
        wanted = aws_fingerprint.strip().lower().rstrip("=")
        return any(f.lower().rstrip("=") == wanted for f in self.fingerprints)


def _hex_pairs(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + body


def _der_int(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")  # leading zero keeps it positive
    while len(raw) > 1 and raw[0] == 0 and raw[1] < 0x80:
        raw = raw[1:]
    return _der(0x02, raw)


def _der_items(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """Split DER ``data`` into (tag, body, whole encoding) triples."""
    out, i = [], 0
    while i < len(data):
        tag, first = data[i], data[i + 1]
        j = i + 2
        if first & 0x80:
            count = first & 0x7F
            length = int.from_bytes(data[j : j + count], "big")
            j += count
        else:
            length = first
        if j + length > len(data):
            raise ValueError("truncated DER")
        out.append((tag, data[j : j + length], data[i : j + length]))
        i = j + length
    return out


def _rsa_from_pkcs1(pkcs1: bytes) -> tuple[bytes, bytes]:
    """(PKCS#8 DER, SubjectPublicKeyInfo DER) for a PKCS#1 RSAPrivateKey."""
    (tag, body, _), *_ = _der_items(pkcs1)
    fields = _der_items(body)
    if tag != 0x30 or len(fields) < 3 or any(t != 0x02 for t, _, _ in fields[:3]):
        raise ValueError("not an RSA private key")
    n_der, e_der = fields[1][2], fields[2][2]
    spki = _der(0x30, _ALGORITHM + _der(0x03, b"\x00" + _der(0x30, n_der + e_der)))
    pkcs8 = _der(0x30, _der_int(0) + _ALGORITHM + _der(0x04, pkcs1))
    return pkcs8, spki


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _ssh_mpint(value: int) -> bytes:
    return _ssh_string(value.to_bytes(value.bit_length() // 8 + 1, "big") if value else b"")


def _openssh_public(blob: bytes) -> str:
    keytype = next(_ssh_fields(blob)).decode()
    return f"{keytype} {base64.b64encode(blob).decode()}"


def _rsa_public(pkcs1: bytes) -> str:
    (_, body, _), *_ = _der_items(pkcs1)
    fields = _der_items(body)
    n, e = (int.from_bytes(f[1], "big") for f in fields[1:3])
    return _openssh_public(_ssh_string(b"ssh-rsa") + _ssh_mpint(e) + _ssh_mpint(n))


def _rsa_fingerprints(pkcs1: bytes, pkcs8: bytes | None = None) -> tuple[str, ...]:
    made_pkcs8, spki = _rsa_from_pkcs1(pkcs1)
    return (
        _hex_pairs(hashlib.sha1(pkcs8 or made_pkcs8).digest()),
        _hex_pairs(hashlib.md5(spki).digest()),
        _hex_pairs(hashlib.sha1(spki).digest()),
    )


def _ssh_fields(data: bytes):
    """Iterate over the length-prefixed strings of an SSH wire-format blob."""
    i = 0
    while i < len(data):
        (n,) = struct.unpack(">I", data[i : i + 4])
        yield data[i + 4 : i + 4 + n]
        i += 4 + n


def _prefix_len(data: bytes, count: int) -> int:
    """Byte length of the first ``count`` length-prefixed strings of ``data``."""
    i = 0
    for _ in range(count):
        (n,) = struct.unpack(">I", data[i : i + 4])
        i += 4 + n
    return i


def _openssh_fingerprints(blob: bytes) -> tuple[str, tuple[str, ...], bytes]:
    magic = b"openssh-key-v1\x00"
    if not blob.startswith(magic):
        raise ValueError("not an openssh-key-v1 file")
    rest = blob[len(magic) :]
    cipher, _kdf, _kdf_options = list(_ssh_fields(rest[: _prefix_len(rest, 3)]))
    if cipher != b"none":
        raise InputError("encrypted")
    rest = rest[_prefix_len(rest, 3) :]
    (count,) = struct.unpack(">I", rest[:4])
    if count != 1:
        raise ValueError("more than one key in the file")
    public, private = list(_ssh_fields(rest[4 : 4 + _prefix_len(rest[4:], 2)]))
    sha256 = base64.b64encode(hashlib.sha256(public).digest()).decode()
    keytype = next(_ssh_fields(public))
    if keytype == b"ssh-ed25519":
        raw = list(_ssh_fields(public))[1]
        spki = bytes.fromhex("302a300506032b6570032100") + raw
        return "ed25519", (sha256, _hex_pairs(hashlib.sha256(spki).digest())), public
    if keytype != b"ssh-rsa":
        raise ValueError(f"key type {keytype.decode(errors='replace')} (AWS takes RSA and ED25519)")
    # private section: checkint, checkint, then string keytype, mpint n, e, d, iqmp, p, q, comment
    fields = list(itertools.islice(_ssh_fields(private[8:]), 7))  # then comment and padding
    n_, e, d, iqmp, p, q = (int.from_bytes(f, "big") for f in fields[1:7])
    pkcs1 = _der(
        0x30,
        b"".join(_der_int(v) for v in (0, n_, e, d, p, q, d % (p - 1), d % (q - 1), iqmp)),
    )
    return "rsa", (*_rsa_fingerprints(pkcs1), sha256), public


def read_local_key(path: Path) -> LocalKey:
    """Fingerprints of the private key at ``path``; ``InputError`` says why it cannot be read."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise InputError(f"{path}: no such private key file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the private key: {exc}") from None
    match = _PEM.search(text)
    if not match:
        raise InputError(f"{path}: not a PEM or OpenSSH private key")
    label, body = match.group(1), match.group(2)
    if "Proc-Type: 4,ENCRYPTED" in body or label == "ENCRYPTED PRIVATE KEY":
        raise InputError(f"{path}: the private key is passphrase-protected; bosh-init needs it without a passphrase")
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
        if label == "RSA PRIVATE KEY":
            return LocalKey(path, "rsa", _rsa_fingerprints(der), _rsa_public(der))
        if label == "PRIVATE KEY":
            (_, body8, _), *_ = _der_items(der)
            version, algorithm, key = _der_items(body8)[:3]
            if _RSA_OID not in algorithm[2]:
                raise ValueError("a PKCS#8 key that is not RSA")
            pkcs8 = _der(0x30, version[2] + algorithm[2] + key[2])
            return LocalKey(path, "rsa", _rsa_fingerprints(key[1], pkcs8), _rsa_public(key[1]))
        if label == "OPENSSH PRIVATE KEY":
            kind, prints, public = _openssh_fingerprints(der)
            return LocalKey(path, kind, prints, _openssh_public(public))
    except InputError:
        raise InputError(
            f"{path}: the private key is passphrase-protected; bosh-init needs it without a passphrase"
        ) from None
    except (ValueError, struct.error, IndexError, ZeroDivisionError) as exc:
        raise InputError(f"{path}: cannot parse the {label}: {exc}") from None
    raise InputError(f"{path}: a {label} is not a private key AWS accepts (RSA or ED25519)")
