"""Hostile bundles against the signature, the serial and the expiry (issue 13): forged, unsigned,
edited after signing, signed by another key, rolled back, expired; on both CLIs and in install.sh.

Throwaway ed25519 keys live in a temporary GNUPGHOME; the gpg agent is stopped afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from bundler import cli
from bundler.core.bundlemeta import META, new_meta, read_meta
from bundler.core.signing import SIGNATURE
from installer import cli as install_cli
from installer.state import StateDir
from tests.support.smallbundle import copy_bundle, small_bundle, small_lock, snapshot


def _gen_key(home: Path, uid: str) -> tuple[str, Path]:
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    listing = subprocess.run(
        ["gpg", "--with-colons", "--list-keys", uid], check=True, capture_output=True, text=True, env=env
    ).stdout
    fpr = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    keyring = home.parent / f"{uid.split()[0].lower()}.gpg"
    keyring.write_bytes(subprocess.run(["gpg", "--export", fpr], check=True, capture_output=True, env=env).stdout)
    return fpr, keyring


@pytest.fixture(scope="module")
def keys():
    """Two signers in one short GNUPGHOME (the agent socket path must stay short)."""
    base = Path(tempfile.mkdtemp(prefix="w2g."))
    home = base / "g"
    home.mkdir(mode=0o700)
    ours, ours_ring = _gen_key(home, "Signer <signer@example.invalid>")
    other, other_ring = _gen_key(home, "Mallory <mallory@example.invalid>")
    old = os.environ.get("GNUPGHOME")
    os.environ["GNUPGHOME"] = str(home)
    yield {"ours": ours, "ring": ours_ring, "other": other, "other_ring": other_ring, "home": home}
    if old is None:
        del os.environ["GNUPGHOME"]
    else:
        os.environ["GNUPGHOME"] = old
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, env={**os.environ, "GNUPGHOME": str(home)})
    subprocess.run(["rm", "-rf", str(base)], check=True)


@pytest.fixture(scope="module")
def template(tmp_path_factory, keys):
    """One signed bundle (serial 5), copied per test."""
    tmp = tmp_path_factory.mktemp("signed")
    return small_bundle(tmp, {"alpha": 20_000, "beta": 3_000}, new_meta(5), sign_key=keys["ours"])


@pytest.fixture
def bundle(template, tmp_path):
    return copy_bundle(template, tmp_path / "bundle")


def both(args: list[str]) -> list[int]:
    return [cli.main(args), install_cli.main(args)]


def test_signed_bundle_verifies_on_both_sides(bundle, keys, capsys):
    before = snapshot(bundle)
    assert both(["verify", str(bundle), "--keyring", str(keys["ring"])]) == [0, 0]
    out = capsys.readouterr().out
    assert out.count("OK") == 2 and f"signed by {keys['ours']}" in out
    assert snapshot(bundle) == before  # verification writes nothing
    meta = read_meta(bundle)
    assert meta.serial == 5 and meta.tool_version
    assert META in (bundle / "SHA256SUMS").read_text()  # the serial is inside the signed scope


def test_unsigned_bundle_refused_with_keyring(bundle, keys, capsys):
    (bundle / SIGNATURE).unlink()
    assert both(["verify", str(bundle), "--keyring", str(keys["ring"])]) == [1, 1]
    out = capsys.readouterr().out
    assert out.count("SHA256SUMS.gpg: missing: the bundle is not signed") == 2


def test_unsigned_bundle_allowed_only_with_no_require_signature(bundle, keys, capsys):
    (bundle / SIGNATURE).unlink()
    assert cli.main(["verify", str(bundle), "--keyring", str(keys["ring"]), "--no-require-signature"]) == 0


def test_require_signature_without_keyring_is_bad_input(bundle, capsys):
    assert both(["verify", str(bundle), "--require-signature"]) == [2, 2]
    err = capsys.readouterr().err.splitlines()
    why = "error: --require-signature needs --keyring FILE (the signer's public key)"
    assert err == [f"bosh-bundle: {why}", f"bosh-install: {why}"]


def test_signature_by_another_key_refused(bundle, keys, capsys):
    assert both(["verify", str(bundle), "--keyring", str(keys["other_ring"])]) == [1, 1]
    out = capsys.readouterr().out
    assert out.count("SHA256SUMS.gpg: unknown key: signed by") == 2


def test_sums_edited_after_signing_refused(bundle, keys, capsys):
    sums = bundle / "SHA256SUMS"
    text = sums.read_text()
    sums.write_text(("0" if text[0] != "0" else "1") + text[1:])
    assert both(["verify", str(bundle), "--keyring", str(keys["ring"])]) == [1, 1]
    out = capsys.readouterr().out
    assert out.count("SHA256SUMS.gpg: bad: SHA256SUMS was changed after it was signed") == 2
    assert "1 problem " in out  # the signature is the only problem: nothing else was read


def test_resealed_by_attacker_key_refused(bundle, keys, capsys):
    """Edit the lock, recompute SHA256SUMS, sign with another key: the keyring decides."""
    (bundle / "bundle.lock").write_text((bundle / "bundle.lock").read_text().replace("1.0", "6.6.6"))
    assert cli.main(["sign", str(bundle), "--sign-key", keys["other"]]) == 1  # sign refuses a bundle that fails
    assert "not signed: the bundle does not verify" in capsys.readouterr().err
    names = "bootstrap.tar.gz bundle.json bundle.lock install.sh payload.7z"
    subprocess.run(["sh", "-c", f"sha256sum {names} > SHA256SUMS"], cwd=bundle, check=True)
    subprocess.run(["gpg", "--batch", "--yes", "-u", keys["other"], "-o", str(bundle / SIGNATURE), "--detach-sign",
                    str(bundle / "SHA256SUMS")], check=True, capture_output=True)  # fmt: skip
    assert cli.main(["verify", str(bundle), "--keyring", str(keys["ring"])]) == 1
    assert "unknown key" in capsys.readouterr().out


def test_garbage_signature_refused(bundle, keys, capsys):
    (bundle / SIGNATURE).write_bytes(b"-----BEGIN PGP SIGNATURE-----\nnope\n")
    assert cli.main(["verify", str(bundle), "--keyring", str(keys["ring"])]) == 1
    assert "SHA256SUMS.gpg: bad: not a valid signature over SHA256SUMS" in capsys.readouterr().out


def test_endless_signature_refused_unread(bundle, keys, capsys):
    with open(bundle / SIGNATURE, "wb") as f:
        f.truncate(1 << 30)  # sparse: 1 GiB of nothing
    assert cli.main(["verify", str(bundle), "--keyring", str(keys["ring"])]) == 1
    assert "is not a detached signature" in capsys.readouterr().out


def test_signature_symlink_is_missing(bundle, keys, tmp_path, capsys):
    real = tmp_path / "elsewhere.gpg"
    os.replace(bundle / SIGNATURE, real)
    (bundle / SIGNATURE).symlink_to(real)
    assert cli.main(["verify", str(bundle), "--keyring", str(keys["ring"])]) == 1
    assert "SHA256SUMS.gpg: missing" in capsys.readouterr().out


def test_keyring_that_is_no_file_is_bad_input(bundle, tmp_path, capsys):
    assert cli.main(["verify", str(bundle), "--keyring", str(tmp_path / "nope.gpg")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_metadata_edited_after_signing_refused(bundle, keys, capsys):
    data = json.loads((bundle / META).read_text())
    data["serial"] = 99
    (bundle / META).write_text(json.dumps(data))
    assert cli.main(["verify", str(bundle), "--keyring", str(keys["ring"])]) == 1
    assert "bundle.json: file is damaged or altered" in capsys.readouterr().out


def test_expired_bundle_refused(tmp_path, keys, capsys):
    meta = new_meta(7, expires_days=1, now=1_000_000_000)  # expired in 2001
    bundle = small_bundle(tmp_path, {"alpha": 100}, meta, sign_key=keys["ours"])
    assert cli.main(["verify", str(bundle), "--keyring", str(keys["ring"])]) == 1
    assert "bundle.json: the bundle expired on 2001-09-10T01:46:40Z (serial 7)" in capsys.readouterr().out


def test_sign_with_unknown_key_leaves_nothing(bundle, capsys):
    (bundle / SIGNATURE).unlink()
    before = snapshot(bundle)
    assert cli.main(["sign", str(bundle), "--sign-key", "NOSUCHKEY0000"]) == 2
    assert "signing" in capsys.readouterr().err
    assert snapshot(bundle) == before


def test_build_and_resplit_with_an_unknown_key_fail_before_any_work(bundle, keys, tmp_path, capsys):
    lock = small_lock(tmp_path, {"alpha": 100})
    argv = ["build", "--lock", str(lock), "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache")]
    assert cli.main([*argv, "--sign-key", "NOSUCHKEY0000"]) == 2
    assert "--sign-key NOSUCHKEY0000: no secret key for signing" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()  # nothing downloaded
    resplit = ["resplit", str(bundle), "--volume-size", "1m", "--out", str(tmp_path / "re")]
    assert cli.main([*resplit, "--sign-key", "NOSUCHKEY0000"]) == 2
    assert not (tmp_path / "re").exists()


def test_sign_existing_bundle_adds_metadata_into_sums(bundle, keys, capsys):
    (bundle / SIGNATURE).unlink()
    (bundle / META).unlink()
    sums = bundle / "SHA256SUMS"
    sums.write_text("".join(line + "\n" for line in sums.read_text().splitlines() if META not in line))
    assert cli.main(["sign", str(bundle), "--sign-key", keys["ours"]]) == 0
    assert read_meta(bundle).serial > 20260000000000  # the UTC time as YYYYMMDDHHMMSS
    assert cli.main(["verify", str(bundle), "--keyring", str(keys["ring"])]) == 0


def test_sign_dry_run_checks_the_key_and_the_bundle_and_writes_nothing(bundle, keys, capsys):
    (bundle / SIGNATURE).unlink()
    (bundle / META).unlink()
    sums = bundle / "SHA256SUMS"
    sums.write_text("".join(line + "\n" for line in sums.read_text().splitlines() if META not in line))
    before = snapshot(bundle)
    assert cli.main(["sign", str(bundle), "--sign-key", keys["ours"], "--serial", "12", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"would sign SHA256SUMS with {keys['ours']} ({keys['ours']}); would add bundle.json (serial 12)" in out
    assert out.rstrip().endswith("dry run: nothing was changed") and snapshot(bundle) == before
    assert cli.main(["sign", str(bundle), "--sign-key", "NOSUCHKEY0000", "--dry-run"]) == 2
    assert "--sign-key NOSUCHKEY0000: no secret key for signing" in capsys.readouterr().err
    (bundle / "bundle.lock").write_text("edited\n")
    before = snapshot(bundle)
    assert cli.main(["sign", str(bundle), "--sign-key", keys["ours"], "--dry-run"]) == 1  # it must verify first
    assert snapshot(bundle) == before


def _install(bundle: Path, root: Path, *extra: str) -> int:
    return install_cli.main(["install", "--bundle", str(bundle), "--root", str(root), "--dry-run", *extra])


def test_older_serial_than_installed_refused(bundle, keys, tmp_path, capsys):
    root = tmp_path / "root"
    state = StateDir.for_root(root, True, None)
    state.record_serial(9, "test")
    assert (state.installed.stat().st_mode & 0o777) == 0o600
    before = snapshot(root)
    assert _install(bundle, root, "--keyring", str(keys["ring"])) == 2
    err = capsys.readouterr().err
    assert "bundle.json: serial 5 is older than the installed bundle's 9" in err and "--allow-downgrade" in err
    assert err.count("\n") == 1 and snapshot(root) == before
    _install(bundle, root, "--keyring", str(keys["ring"]), "--allow-downgrade")
    assert "refusing a downgrade" not in capsys.readouterr().err


def test_install_refuses_unsigned_before_reading_the_lock(bundle, keys, tmp_path, capsys):
    (bundle / SIGNATURE).unlink()
    (bundle / "bundle.lock").write_text("{not json")
    assert _install(bundle, tmp_path, "--keyring", str(keys["ring"])) == 1
    assert (
        capsys.readouterr().err.strip().endswith("the bundle is not signed (on the connected side: 'bosh-bundle sign')")
    )


def _sh(bundle: Path, *args: str, tmp: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TMPDIR": str(tmp)}
    tmp.mkdir(exist_ok=True)
    return subprocess.run(["sh", str(bundle / "install.sh"), *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)  # fmt: skip


@pytest.mark.parametrize(
    "damage, reason",
    [
        ("unsigned", "SHA256SUMS.gpg: missing: the bundle is not signed"),
        ("other", "SHA256SUMS.gpg: unknown key"),
        ("edited", "SHA256SUMS.gpg: bad: SHA256SUMS was changed after it was signed"),
    ],
)
def test_install_sh_refuses_before_running_anything(bundle, keys, tmp_path, damage, reason):
    ring = keys["ring"]
    if damage == "unsigned":
        (bundle / SIGNATURE).unlink()
    elif damage == "other":
        ring = keys["other_ring"]
    else:
        (bundle / "SHA256SUMS").write_text((bundle / "SHA256SUMS").read_text() + "\n")
    done = _sh(bundle, "--keyring", str(ring), "--dry-run", tmp=tmp_path / "t")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and reason in done.stderr
    assert list((tmp_path / "t").iterdir()) == []  # nothing unpacked, the temporary directory removed


def test_install_sh_checks_the_signature_then_hands_over(bundle, keys, tmp_path):
    root = tmp_path / "root"
    state = StateDir.for_root(root, True, None)
    state.record_serial(9, "test")
    (root / "etc").mkdir()
    (root / "etc" / "os-release").write_text('ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n')
    done = _sh(bundle, "--keyring", str(keys["ring"]), "--dry-run", "--root", str(root), tmp=tmp_path / "t")
    assert "SHA256SUMS: good signature by a key of" in done.stderr
    # the installer checked the signature again, then refused the rollback
    assert done.returncode == 2 and "serial 5 is older than the installed bundle's 9" in done.stderr


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.network
def test_install_sh_checks_the_signature_inside_the_network_less_root(minbase_tar, bundle, keys, tmp_path):
    """The same check with the root's own sh and gpgv (Debian 12 minbase), under ``unshare --net``."""
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["tar", "-xf", str(minbase_tar), "-C", str(root)], check=True)
    subprocess.run(["cp", "-a", str(bundle), str(root / "bundle")], check=True)
    for name in ("ring", "other_ring"):
        subprocess.run(["cp", str(keys[name]), str(root / f"{name}.gpg")], check=True)

    def run(*args: str) -> subprocess.CompletedProcess:
        cmd = ["unshare", "--net", "--mount", "--fork", "chroot", str(root), "sh", "/bundle/install.sh", *args]
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=300, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        )

    good = run("--keyring", "/ring.gpg", "--dry-run")
    assert "SHA256SUMS: good signature by a key of /ring.gpg" in good.stderr
    other = run("--keyring", "/other_ring.gpg", "--dry-run")
    assert other.returncode == 1 and "SHA256SUMS.gpg: unknown key" in other.stderr
    sums = root / "bundle" / "SHA256SUMS"
    sums.write_text(sums.read_text() + "\n")
    edited = run("--keyring", "/ring.gpg", "--dry-run")
    assert edited.returncode == 1 and "SHA256SUMS.gpg: bad: SHA256SUMS was changed after it was signed" in edited.stderr
    (root / "bundle" / SIGNATURE).unlink()
    unsigned = run("--keyring", "/ring.gpg", "--dry-run")
    assert unsigned.returncode == 1 and "SHA256SUMS.gpg: missing: the bundle is not signed" in unsigned.stderr
    assert not list((root / "tmp").glob("bosh-offline.*"))  # nothing left unpacked
