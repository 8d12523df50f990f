"""moto's server mode on 127.0.0.1 for tests: a real HTTP endpoint speaking the AWS APIs.

``MotoServer`` starts ``moto.server.ThreadedMotoServer`` on a free loopback port, sets dummy
credentials and config paths in the environment (so nothing can reach a real account or read the
operator's ``~/.aws``) and ``AWS_ENDPOINT_URL`` (so even a client made without an endpoint lands on
moto), and hands out boto3 clients with ``endpoint_url`` always explicit.  moto
keeps its state per process, so tests share one server and call ``reset()`` between scenarios.

    with MotoServer() as aws:
        ec2 = aws.client("ec2")      # http://127.0.0.1:PORT, region us-east-1
"""

from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests
from moto.server import ThreadedMotoServer

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAMOTOTESTENVKEY00",
    "AWS_SECRET_ACCESS_KEY": "moto-env-secret-never-real",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def assert_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    assert ipaddress.ip_address(host).is_loopback, f"{url} is not a loopback endpoint"


class MotoServer:
    def __init__(self, tmp_dir: Path | None = None) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._saved_env: dict[str, str | None] = {}
        self._tmp_dir = tmp_dir
        self.endpoint_url = ""

    def __enter__(self) -> MotoServer:
        env = dict(DUMMY_ENV)
        nowhere = str((self._tmp_dir or Path("/nonexistent")) / "no-aws-config")
        env.update(AWS_CONFIG_FILE=nowhere, AWS_SHARED_CREDENTIALS_FILE=nowhere)
        for key, value in env.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        os.environ.pop("AWS_PROFILE", None)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request lines in test output
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        assert_loopback(self.endpoint_url)
        # a client made without an explicit endpoint (a bug) still lands here, never on AWS
        self._saved_env.setdefault("AWS_ENDPOINT_URL", os.environ.get("AWS_ENDPOINT_URL"))
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint_url
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def client(self, service: str, region: str = "us-east-1") -> Any:
        assert_loopback(self.endpoint_url)
        return boto3.session.Session().client(service, region_name=region, endpoint_url=self.endpoint_url)

    def reset(self) -> None:
        """Forget every resource (moto's state is per process, shared by all tests)."""
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
