"""The keys the manifests carry: from the site file, or from a profile read by botocore's own config loader."""

import pytest

from bundler.core.errors import InputError
from installer.site.credentials import aws_credentials, site_access
from installer.site.model import load_site
from tests.support.deployfixtures import GUIDE_SITE, make_fixture

KEYS = "  access_key_id: AKIAEXAMPLEKEY000001\n  secret_access_key: oDexampleSecretKeyThatIsLongEnough0001\n"


@pytest.fixture
def aws_files(tmp_path, monkeypatch):
    credentials, config = tmp_path / "credentials", tmp_path / "config"
    credentials.write_text("[ops]\naws_access_key_id = AKIAOPSKEY0000000001\naws_secret_access_key = ops-secret-0001\n")
    config.write_text(
        "[profile cfg]\naws_access_key_id = AKIACFGKEY0000000001\naws_secret_access_key = cfg-secret-0001\n"
        "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = ops\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return credentials, config


def _site(tmp_path, profile):
    text = GUIDE_SITE.replace(KEYS, f"  profile: {profile}\n")
    return load_site(make_fixture(tmp_path / profile, text).site_path)


def test_keys_in_the_site_file_win(tmp_path, aws_files):
    site = load_site(make_fixture(tmp_path).site_path)
    creds = aws_credentials(site)
    assert (creds.access_key_id, creds.source) == ("AKIAEXAMPLEKEY000001", "site file")
    assert site_access(site).secrets == ("AKIAEXAMPLEKEY000001", "oDexampleSecretKeyThatIsLongEnough0001")


@pytest.mark.parametrize(("profile", "key"), [("ops", "AKIAOPSKEY0000000001"), ("cfg", "AKIACFGKEY0000000001")])
def test_a_profile_of_either_file_gives_its_keys(tmp_path, aws_files, profile, key):
    creds = aws_credentials(_site(tmp_path, profile))
    assert creds.access_key_id == key and creds.secret_access_key.endswith("-secret-0001")
    assert f"profile {profile} in " in creds.source


@pytest.mark.parametrize("profile", ["nobody", "role"])
def test_a_profile_without_static_keys_names_the_field(tmp_path, aws_files, profile):
    with pytest.raises(InputError, match=r"site.yml:\d+: aws.profile: no keys for profile"):
        aws_credentials(_site(tmp_path, profile))
