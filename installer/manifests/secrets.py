"""Generated secrets for the two manifests: a vars store written once (mode 0600) and reused.

The guide ships fixed passwords (``nats-password``, ``admin``/``admin``, the stemcell's default
``vcap`` password …).  We never write a default password: on first use every secret is drawn from
``secrets`` (32 letters and digits, ~190 bits; no URL-special characters, since some end up inside
``nats://user:PASSWORD@host`` URLs) and stored in the site's ``vars_store`` (a YAML file, mode 0600,
in a 0700 directory, outside the bundle).  Later runs reuse them, so re-rendering gives the same
manifest and a deployed director keeps its credentials.

``env.bosh.password`` (the ``vcap`` user's password on every VM) must be a SHA-512 crypt hash
(``$6$salt$…``, what ``mkpasswd -m sha-512`` prints).  Python's ``crypt`` module is deprecated and
absent from some builds, so ``sha512_crypt`` implements the algorithm (Ulrich Drepper's
"Unix crypt using SHA-256 and SHA-512", as in glibc); the tests compare it with ``openssl passwd -6``.
The hash is stored beside its password, so the manifest stays byte-for-byte stable across runs.

``Secrets.values()`` lists every secret value so the caller registers them with
``Runner.redact``: they then never reach a log, a plan or an error message.  Imports only
``bundler.core.errors``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bundler.core.errors import InputError

log = logging.getLogger(__name__)

PASSWORD_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 32
_CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Per deployment: the passwords its manifest needs.  ``vcap_password_hash`` is derived, not drawn.
NAMES: dict[str, tuple[str, ...]] = {
    "microbosh": (
        "nats_password",
        "redis_password",
        "postgres_password",
        "blobstore_director_password",
        "blobstore_agent_password",
        "registry_password",
        "admin_password",
        "hm_password",
        "mbus_password",
        "vcap_password",
    ),
    "bosh": (
        "nats_password",
        "redis_password",
        "postgres_password",
        "blobstore_director_password",
        "blobstore_agent_password",
        "registry_password",
        "admin_password",
        "hm_password",
        "powerdns_password",
        "powerdns_replication_password",
        "vcap_password",
    ),
}


def new_password(length: int = PASSWORD_LENGTH) -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def new_salt(length: int = 16) -> str:
    return "".join(secrets.choice(_CRYPT_ALPHABET) for _ in range(length))


def _repeat(block: bytes, length: int) -> bytes:
    return (block * (length // len(block) + 1))[:length]


def sha512_crypt(password: str, salt: str, rounds: int = 5000) -> str:
    """SHA-512-crypt (``$6$``) of ``password`` with ``salt`` (at most 16 characters are used)."""
    pw = password.encode("utf-8")
    salt = salt[:16]
    sb = salt.encode("ascii")
    b = hashlib.sha512(pw + sb + pw).digest()
    a = hashlib.sha512(pw + sb + _repeat(b, len(pw)))
    n = len(pw)
    while n > 0:
        a.update(b if n & 1 else pw)
        n >>= 1
    digest_a = a.digest()
    p = _repeat(hashlib.sha512(pw * len(pw)).digest(), len(pw))
    s = _repeat(hashlib.sha512(sb * (16 + digest_a[0])).digest(), len(sb))
    c = digest_a
    for r in range(rounds):
        h = hashlib.sha512(p if r & 1 else c)
        if r % 3:
            h.update(s)
        if r % 7:
            h.update(p)
        h.update(c if r & 1 else p)
        c = h.digest()
    out = []
    for i in range(21):
        trio = (c[i], c[(i + 21) % 63], c[(i + 42) % 63])
        if i % 3 == 1:
            trio = (trio[1], trio[2], trio[0])
        elif i % 3 == 2:
            trio = (trio[2], trio[0], trio[1])
        out.append(_b64_24(*trio, 4))
    out.append(_b64_24(0, 0, c[63], 2))
    prefix = "$6$" if rounds == 5000 else f"$6$rounds={rounds}$"
    return f"{prefix}{salt}${''.join(out)}"


def _b64_24(b2: int, b1: int, b0: int, n: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    chars = []
    for _ in range(n):
        chars.append(_CRYPT_ALPHABET[w & 0x3F])
        w >>= 6
    return "".join(chars)


@dataclass(frozen=True)
class Secrets:
    """The secrets of one deployment (``microbosh`` or ``bosh``), by name, plus the vcap hash."""

    deployment: str
    values_by_name: dict[str, str]

    def __getitem__(self, name: str) -> str:
        return self.values_by_name[name]

    def values(self) -> list[str]:
        """Every value to redact (the hash too: it is crackable offline)."""
        return sorted(set(self.values_by_name.values()))


class VarsStore:
    """The vars store file: ``{deployment: {name: value}}``, created 0600 and only ever extended."""

    def __init__(self, path: Path):
        self.path = Path(path).expanduser()

    def load(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        mode = self.path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning("%s was readable by others (mode %o); setting it to 0600", self.path, mode)
            os.chmod(self.path, 0o600)
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InputError(
                f"{self.path}: the vars store is not valid YAML ({exc}); restore it from a backup"
            ) from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise InputError(f"{self.path}: the vars store must map deployment names to secrets; restore it")
        return {str(k): {str(n): str(s) for n, s in v.items()} for k, v in data.items()}

    def save(self, data: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("# Secrets generated by bosh-install for MicroBOSH and BOSH. Keep this file private (0600).\n")
            yaml.safe_dump(data, fh, default_flow_style=False, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def secrets_for(self, deployment: str) -> Secrets:
        """The deployment's secrets, generating (and saving) whichever are missing."""
        if deployment not in NAMES:
            raise ValueError(f"unknown deployment {deployment!r}")
        data = self.load()
        mine = dict(data.get(deployment, {}))
        changed = False
        for name in NAMES[deployment]:
            if not mine.get(name):
                mine[name] = new_password()
                changed = True
        expected_hash = mine.get("vcap_password_hash", "")
        salt = expected_hash.split("$")[2] if expected_hash.startswith("$6$") else ""
        if not salt or sha512_crypt(mine["vcap_password"], salt) != expected_hash:
            mine["vcap_password_hash"] = sha512_crypt(mine["vcap_password"], new_salt())
            changed = True
        if changed:
            data[deployment] = mine
            self.save(data)
            log.info("generated secrets for %s in %s", deployment, self.path)
        return Secrets(deployment, mine)


def register(runner_redact, all_secrets: Iterable[Secrets]) -> None:
    """Hand every secret value to a redaction function (``Runner.redact``)."""
    for s in all_secrets:
        runner_redact(*s.values())
