"""``bosh-bundle gems resolve``: the chosen set printed (text and JSON) and the exit codes."""

import json

from tests.bundler.conftest import needs_gem

pytestmark = needs_gem


def _cli(gem_server, tmp_path, *args):
    from bundler.cli import main

    return main(["gems", "resolve", *args, "--source", gem_server.base_url, "--cache", str(tmp_path / "cache")])


def test_gems_resolve_command_prints_the_chosen_set(gem_server, tmp_path, capsys):
    assert _cli(gem_server, tmp_path, "top:~> 1.0", "natv", "--ruby", "2.1.6", "--rubygems", "2.2.3") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [
        ["base", "1.5.0"],
        ["left", "1.0.0"],
        ["natv", "1.0.0", "x86_64-linux"],
        ["right", "1.0.0"],
        ["top", "1.0.0"],
    ]
    assert _cli(gem_server, tmp_path, "oldruby", "--ruby", "3.1.2", "--platform", "ruby", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert [(g["name"], g["version"], g["platform"]) for g in out["gems"]] == [("oldruby", "3.0.0", "ruby")]
    assert out["gems"][0]["required_ruby_version"] == ">= 2.7"


def test_gems_resolve_command_exit_codes(gem_server, tmp_path, capsys):
    assert _cli(gem_server, tmp_path, "broken", "--ruby", "2.1.6", "--rubygems", "2.2.3") == 1
    assert "p ~> 1.0 (required by broken-1.0.0)" in capsys.readouterr().err
    assert _cli(gem_server, tmp_path, "top:=> 1", "--ruby", "2.1.6") == 2
    assert "gem request top:=> 1: malformed gem requirement" in capsys.readouterr().err
    assert _cli(gem_server, tmp_path, "top", "--ruby", "two") == 2
