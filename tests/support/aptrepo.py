"""A real, signed APT repository on disk for tests: the local replica of Debian's archive.

``build_repo(root, packages, gnupghome=…)`` writes ``pool/`` with real ``.deb`` files built by
``dpkg-deb``, ``dists/SUITE/main/binary-ARCH/Packages{,.gz,.xz}`` and ``dists/SUITE/Release``, then signs it
with a throwaway ed25519 key (``InRelease`` and ``Release.gpg``) whose public keyring it exports.  Serve
``root`` with ``LoopbackServer`` and point an ``AptSource`` at it.

A package is a dict of control fields (``Package``, ``Version``; ``Architecture`` defaults to the repo's
arch, ``Depends`` etc. as in a Packages file).
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Repo:
    root: Path
    suite: str
    keyring: Path  # public keyring (binary) that verifies the signatures
    gnupghome: Path  # holds the secret key, for re-signing after a deliberate change


def make_key(gnupghome: Path) -> Path:
    """A throwaway signing key in ``gnupghome``; returns its exported public keyring."""
    gnupghome.mkdir(parents=True, exist_ok=True)
    os.chmod(gnupghome, 0o700)
    env = {**os.environ, "GNUPGHOME": str(gnupghome)}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Test Repo <repo@example.invalid>", "ed25519", "sign",
         "never"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    keyring = gnupghome / "repo-keyring.gpg"
    keyring.write_bytes(subprocess.run(["gpg", "--export"], check=True, capture_output=True, env=env).stdout)
    _stop_agent(env)
    return keyring


def _stop_agent(env: dict[str, str]) -> None:
    """gpg leaves an agent running per GNUPGHOME; stop it so tests leave no daemons behind."""
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, env=env)


def build_deb(pool: Path, fields: dict[str, str], work: Path) -> Path:
    name, version, arch = fields["Package"], fields["Version"], fields["Architecture"]
    pkgdir = work / f"{name}_{version}_{arch}"
    (pkgdir / "DEBIAN").mkdir(parents=True, exist_ok=True)
    control = {"Maintainer": "Test <t@example.invalid>", "Description": f"test package {name}", **fields}
    (pkgdir / "DEBIAN" / "control").write_text("".join(f"{k}: {v}\n" for k, v in control.items()))
    (pkgdir / "usr" / "share" / "doc" / name).mkdir(parents=True, exist_ok=True)
    (pkgdir / "usr" / "share" / "doc" / name / "README").write_text(f"{name} {version}\n")
    out = pool / f"{name}_{version.split(':')[-1]}_{arch}.deb"
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["dpkg-deb", "-Zgzip", "--root-owner-group", "--build", str(pkgdir), str(out)], check=True,
                   capture_output=True)  # fmt: skip
    return out


def write_packages(root: Path, suite: str, component: str, arch: str, packages: list[dict[str, str]]) -> None:
    stanzas = []
    work = root / ".build"
    for p in packages:
        fields = {"Architecture": arch, **p}
        deb = build_deb(root / "pool" / component / fields["Package"][0], fields, work)
        data = deb.read_bytes()
        rel = deb.relative_to(root).as_posix()
        fields.update(Filename=rel, Size=str(len(data)), SHA256=hashlib.sha256(data).hexdigest())
        stanzas.append("".join(f"{k}: {v}\n" for k, v in fields.items()))
    text = "\n".join(stanzas).encode()
    d = root / "dists" / suite / component / f"binary-{arch}"
    d.mkdir(parents=True, exist_ok=True)
    (d / "Packages").write_bytes(text)
    (d / "Packages.gz").write_bytes(gzip.compress(text, mtime=0))
    (d / "Packages.xz").write_bytes(lzma.compress(text))


def write_release(root: Path, suite: str, arch: str) -> Path:
    dists = root / "dists" / suite
    lines = [f"Suite: {suite}", f"Codename: {suite}", f"Architectures: {arch}", "Components: main", "SHA256:"]
    for f in sorted(
        p for p in dists.rglob("*") if p.is_file() and p.name not in ("Release", "InRelease", "Release.gpg")
    ):
        data = f.read_bytes()
        lines.append(f" {hashlib.sha256(data).hexdigest()} {len(data):>8} {f.relative_to(dists).as_posix()}")
    release = dists / "Release"
    release.write_text("\n".join(lines) + "\n")
    return release


def sign_release(release: Path, gnupghome: Path) -> None:
    env = {**os.environ, "GNUPGHOME": str(gnupghome)}
    d = release.parent
    for out in ("InRelease", "Release.gpg"):
        (d / out).unlink(missing_ok=True)
    subprocess.run(["gpg", "--batch", "--yes", "--clearsign", "-o", str(d / "InRelease"), str(release)], check=True,
                   capture_output=True, env=env)  # fmt: skip
    subprocess.run(["gpg", "--batch", "--yes", "-abs", "-o", str(d / "Release.gpg"), str(release)], check=True,
                   capture_output=True, env=env)  # fmt: skip
    _stop_agent(env)


def build_repo(
    root: Path,
    packages: list[dict[str, str]],
    *,
    gnupghome: Path,
    suite: str = "stable",
    arch: str = "amd64",
    keyring: Path | None = None,
) -> Repo:
    """Write and sign a one-component (``main``) repository under ``root``."""
    keyring = keyring or make_key(gnupghome)
    write_packages(root, suite, "main", arch, packages)
    sign_release(write_release(root, suite, arch), gnupghome)
    return Repo(root, suite, keyring, gnupghome)
