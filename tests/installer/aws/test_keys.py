"""Local key fingerprints agree with what AWS (moto's server, same algorithms) reports."""

from __future__ import annotations

import pytest

from bundler.core.errors import InputError
from installer.aws.keys import read_local_key
from tests.support.motoserver import MotoServer

cryptography = pytest.importorskip("cryptography")
from cryptography.hazmat.primitives import serialization as ser  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa  # noqa: E402


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with MotoServer(tmp_path_factory.mktemp("aws")) as srv:
        srv.reset()
        yield srv


def test_created_key_pair_matches_its_private_key(aws, tmp_path):
    ec2 = aws.client("ec2")
    made = ec2.create_key_pair(KeyName="created")
    path = tmp_path / "created.pem"
    path.write_text(made["KeyMaterial"])
    local = read_local_key(path)
    assert local.matches(made["KeyFingerprint"])  # moto: SHA-1 of the public key
    # AWS: SHA-1 of the DER PKCS#8 private key
    import hashlib

    key = ser.load_pem_private_key(made["KeyMaterial"].encode(), None)
    pkcs8 = key.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    assert local.matches(":".join(f"{b:02x}" for b in hashlib.sha1(pkcs8).digest()))


@pytest.mark.parametrize("name", ["TraditionalOpenSSL", "PKCS8", "OpenSSH"])
def test_imported_key_pair_matches_in_every_file_format(aws, tmp_path, name):
    fmt = getattr(ser.PrivateFormat, name)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH)
    imported = aws.client("ec2").import_key_pair(KeyName=f"imported-{name}", PublicKeyMaterial=public)
    path = tmp_path / "key"
    path.write_bytes(key.private_bytes(ser.Encoding.PEM, fmt, ser.NoEncryption()))
    local = read_local_key(path)
    assert local.kind == "rsa"
    assert local.matches(imported["KeyFingerprint"])
    assert local.public_openssh == public.decode()  # what prepare imports
    # and the created-key form equals SHA-1 of the DER PKCS#8 encoding, as AWS computes it
    import hashlib

    pkcs8 = key.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    assert ":".join(f"{b:02x}" for b in hashlib.sha1(pkcs8).digest()) in local.fingerprints


def test_another_key_does_not_match(aws, tmp_path):
    made = aws.client("ec2").create_key_pair(KeyName="other")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "mine.pem"
    path.write_bytes(key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.TraditionalOpenSSL, ser.NoEncryption()))
    assert not read_local_key(path).matches(made["KeyFingerprint"])


def test_ed25519_fingerprint_is_sha256_base64(aws, tmp_path):
    import base64
    import hashlib

    key = ed25519.Ed25519PrivateKey.generate()
    path = tmp_path / "ed"
    path.write_bytes(key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH, ser.NoEncryption()))
    blob = base64.b64decode(key.public_key().public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH).split()[1])
    local = read_local_key(path)
    assert local.kind == "ed25519"
    made = aws.client("ec2").create_key_pair(KeyName="ed", KeyType="ed25519")
    edpath = tmp_path / "made-ed"
    edpath.write_text(made["KeyMaterial"])
    assert read_local_key(edpath).matches(made["KeyFingerprint"])
    assert local.matches(base64.b64encode(hashlib.sha256(blob).digest()).decode())


def test_unreadable_and_foreign_files_are_named(tmp_path):
    with pytest.raises(InputError, match="no such private key file"):
        read_local_key(tmp_path / "missing.pem")
    (tmp_path / "junk").write_text("hello\n")
    with pytest.raises(InputError, match="not a PEM or OpenSSH private key"):
        read_local_key(tmp_path / "junk")


def test_passphrase_protected_key_is_named(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for fmt in (ser.PrivateFormat.TraditionalOpenSSL, ser.PrivateFormat.PKCS8):
        path = tmp_path / "locked.pem"
        path.write_bytes(key.private_bytes(ser.Encoding.PEM, fmt, ser.BestAvailableEncryption(b"passphrase")))
        with pytest.raises(InputError, match="passphrase-protected"):
            read_local_key(path)
