"""The one AWS session builder: keys or a profile, region and endpoint, and nothing secret in a repr."""

import argparse

import pytest

from bundler.core.awssession import QUICK, TRANSFER, AwsAccess, add_arguments
from bundler.core.errors import InputError


@pytest.fixture(autouse=True)
def no_aws_config(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for name in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def test_the_keys_stay_out_of_its_repr_and_are_listed_as_secrets():
    access = AwsAccess(access_key_id="AKIAKEY", secret_access_key="very-secret", region="eu-west-1")
    assert "very-secret" not in repr(access) and "AKIAKEY" not in repr(access)
    assert access.secrets == ("AKIAKEY", "very-secret")
    assert access.describe() == "access key from the site file"
    assert access.session().get_credentials().secret_key == "very-secret"


def test_command_line_options_make_an_access():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--profile", "ops", "--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:9"])
    assert AwsAccess.from_args(args) == AwsAccess(profile="ops", region="eu-west-1", endpoint_url="http://127.0.0.1:9")


def test_clients_take_region_endpoint_and_path_style_for_s3_stores():
    access = AwsAccess(access_key_id="AKIAKEY", secret_access_key="very-secret", endpoint_url="http://127.0.0.1:9")
    s3 = access.client("s3", settings=TRANSFER)
    assert s3.meta.region_name == "us-east-1" and s3.meta.endpoint_url == "http://127.0.0.1:9"
    assert s3.meta.config.s3 == {"addressing_style": "path"}
    assert s3.meta.config.retries["total_max_attempts"] == 6  # botocore counts the first try too
    ec2 = access.client("ec2", region="eu-central-2", settings=QUICK)
    assert ec2.meta.region_name == "eu-central-2" and ec2.meta.config.connect_timeout == 10


def test_an_unknown_profile_is_an_input_error():
    with pytest.raises(InputError, match="AWS profile 'nobody' is not in the AWS config files"):
        AwsAccess(profile="nobody").session()
