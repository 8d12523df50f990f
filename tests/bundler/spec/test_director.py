"""The spec's ``director`` section."""

from __future__ import annotations

import pytest

from bundler.core.errors import InputError
from bundler.spec import load_spec

TOP = "name: t\ntarget: {os: debian, release: '12', codename: bookworm, arch: amd64}\n"
CLI = "binaries:\n- {name: bosh, version: 7.9.13, url: 'https://example.org/bosh', sha256: '" + "a" * 64 + "'}\n"


def _load(tmp_path, text):
    path = tmp_path / "bundle.yml"
    path.write_text(TOP + text)
    return load_spec(path)


def test_create_env_with_bosh_deployment_ops_files_and_the_cli(tmp_path):
    spec = _load(tmp_path, CLI + "director:\n  toolchain: create-env\n  bosh_deployment: {url: 'https://example.org/"
                 "bd.tgz', sha256: '" + "b" * 64 + "'}\n  ops_files: [aws/cpi.yml, ./mine.yml]\n")  # fmt: skip
    d = spec.director
    assert (d.toolchain, d.url, d.manifest, d.cli) == ("create-env", "https://example.org/bd.tgz", "bosh.yml", "bosh")
    assert d.ops_files == ("aws/cpi.yml", str(tmp_path / "mine.yml"))


def test_every_problem_of_the_section_is_named_with_its_line(tmp_path):
    with pytest.raises(InputError) as exc:
        _load(tmp_path, "director:\n  toolchain: create-env\n  bosh_deployment: {url: 'https://example.org/bd.tgz'}\n"
              "  ops_files: [/etc/passwd, ../x/../y.yml, aws/../../z.yml]\n")  # fmt: skip
    text = str(exc.value)
    assert "bundle.yml:5: director.bosh_deployment.sha256: a bosh-deployment url needs its sha256" in text
    assert "director.ops_files[0]: '/etc/passwd' must be a path inside bosh-deployment" in text
    assert "director.ops_files[2]" in text
    assert "director.cli: create-env needs the bosh CLI 'bosh' in 'binaries'" in text


def test_the_guides_toolchain_needs_nothing_else(tmp_path):
    assert _load(tmp_path, "director: {toolchain: bosh-init}\n").director.toolchain == "bosh-init"
    with pytest.raises(InputError, match="'helm' is not one of: bosh-init, create-env"):
        _load(tmp_path, "director: {toolchain: helm}\n")
