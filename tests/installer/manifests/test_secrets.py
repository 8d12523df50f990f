"""Generated secrets: SHA-512 crypt agrees with openssl, the vars store is private and reused."""

import shutil
import stat
import subprocess

import pytest

from installer.manifests.secrets import NAMES, VarsStore, sha512_crypt
from installer.process import Runner


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
@pytest.mark.parametrize(
    ("password", "salt"),
    [("c1oudc0w", "JA/VRhS7guR2t"), ("x" * 100, "0123456789abcdefXYZ"), ("pässwörd", "Zz./"), ("a", "s")],
)
def test_sha512_crypt_matches_openssl_passwd_6(password, salt):
    ref = subprocess.run(["openssl", "passwd", "-6", "-salt", salt, password], capture_output=True, text=True)
    assert sha512_crypt(password, salt) == ref.stdout.strip()


def test_vars_store_is_created_private_and_reused(tmp_path):
    path = tmp_path / "secret-dir" / "vars.yml"
    first = VarsStore(path).secrets_for("microbosh")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert set(NAMES["microbosh"]) <= set(first.values_by_name)
    assert all(len(first[n]) == 32 and first[n].isalnum() for n in NAMES["microbosh"])
    assert len({first[n] for n in NAMES["microbosh"]}) == len(NAMES["microbosh"])  # all different
    assert first["vcap_password_hash"] == sha512_crypt(
        first["vcap_password"], first["vcap_password_hash"].split("$")[2]
    )
    again = VarsStore(path).secrets_for("microbosh")
    assert again == first
    bosh = VarsStore(path).secrets_for("bosh")
    assert VarsStore(path).secrets_for("microbosh") == first  # adding bosh kept microbosh's
    assert bosh["nats_password"] != first["nats_password"]


def test_vars_store_readable_by_others_is_made_private(tmp_path):
    path = tmp_path / "vars.yml"
    VarsStore(path).secrets_for("bosh")
    path.chmod(0o644)
    VarsStore(path).secrets_for("bosh")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_every_secret_is_redacted_by_the_runner(tmp_path):
    s = VarsStore(tmp_path / "vars.yml").secrets_for("microbosh")
    runner = Runner(tmp_path / "logs")
    runner.redact(*s.values())
    runner.run(["sh", "-c", 'echo "nats=$0 hash=$1"', s["nats_password"], s["vcap_password_hash"]], log_name="x.log")
    text = (tmp_path / "logs" / "x.log").read_text()
    assert s["nats_password"] not in text and s["vcap_password_hash"] not in text
    assert "nats=<redacted> hash=<redacted>" in text
