"""The option and error rules both CLIs keep (issue 17), checked on the parsers themselves.

Sub-commands are discovered from the parsers, so a command added later is held to the same rules:
``--help`` with a description and an example and no markup, the common options before or after it,
``--bundle DIR`` wherever the bundle directory is an input, one line and no traceback for bad paths.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import types
import warnings
from pathlib import Path

import pytest

from bundler import cli as bundle_cli
from bundler.core import cliapp
from bundler.core.errors import InputError
from bundler.core.lock import parse_lock
from bundler.core.sizes import format_size
from bundler.core.tool import tool_version
from installer import cli as install_cli
from tests.support.paths import REPO
from tests.support.synthetic import artifact, write_test_lock

CLIS = {"bosh-bundle": bundle_cli.main, "bosh-install": install_cli.main}


def parser_of(main, monkeypatch) -> argparse.ArgumentParser:
    """The CLI's top-level parser, as ``cliapp.run`` builds it."""
    built: list[argparse.ArgumentParser] = []

    def spy(*args):
        built.append(real(*args))
        return built[-1]

    real = cliapp.build_parser
    monkeypatch.setattr(cliapp, "build_parser", spy)
    with pytest.raises(SystemExit):
        main(["--help"])
    monkeypatch.undo()
    return built[0]


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every (path, parser) below ``parser``: groups such as ``aws`` and their actions such as ``aws check``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from commands(sub, (*path, name))


def all_commands(monkeypatch):
    return [
        (prog, main, path, sub) for prog, main in CLIS.items() for path, sub in commands(parser_of(main, monkeypatch))
    ]


MARKUP = re.compile(r"``|:(?:func|class|mod|meth|ref):|\.\. \w+::|\*\*\w")


def test_every_sub_command_has_help_with_a_description_an_example_and_no_markup(monkeypatch, capsys):
    found = all_commands(monkeypatch)
    assert {p[0] for _, _, p, _ in found} >= {"verify", "build", "install", "deploy"}
    bad = []
    for prog, main, path, sub in found:
        with pytest.raises(SystemExit) as exit_:
            main([*path, "--help"])
        text = capsys.readouterr().out
        where = f"{prog} {' '.join(path)} --help"
        if exit_.value.code != 0:
            bad.append(f"{where}: exit {exit_.value.code}")
        if not (sub.description or "").strip():
            bad.append(f"{where}: no description")
        if f"example:\n  {prog} {' '.join(path)}" not in text:
            bad.append(f"{where}: no example of this command")
        if MARKUP.search(text):
            bad.append(f"{where}: markup in the help: {MARKUP.search(text).group(0)!r}")
        for action in sub._actions:
            if not action.option_strings and not isinstance(action, argparse._SubParsersAction) and not action.help:
                bad.append(f"{where}: the positional {action.metavar or action.dest} is not explained")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("prog", CLIS)
def test_version_on_both_clis(prog, capsys):
    with pytest.raises(SystemExit) as exit_:
        CLIS[prog](["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"{prog} (bosh-offline) {tool_version()}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", tool_version())


def test_the_common_options_are_on_every_command_before_or_after_it(monkeypatch):
    for prog, _, path, sub in all_commands(monkeypatch):
        missing = {"--debug", "-v", "--verbose", "-q", "--quiet"} - set(sub._option_string_actions)
        assert not missing, f"{prog} {' '.join(path)} lacks {missing}"
    parser = parser_of(install_cli.main, monkeypatch)
    for flag, dest in (("--debug", "debug"), ("-v", "verbose"), ("--quiet", "quiet"), ("-q", "quiet")):
        before = parser.parse_args([flag, "status"])
        after = parser.parse_args(["status", flag])
        nested = parser.parse_args(["aws", "check", flag])
        assert getattr(before, dest) and getattr(after, dest) and getattr(nested, dest), flag
        assert not hasattr(parser.parse_args(["status"]), dest)  # the top level's value is not overwritten


@pytest.mark.parametrize("position", ["before", "after"])
def test_debug_shows_the_traceback_in_either_position(tmp_path, position, capsys):
    argv = ["inspect", str(tmp_path / "missing")]
    assert bundle_cli.main(argv) == 2
    assert capsys.readouterr().err.strip() == f"bosh-bundle: error: {tmp_path / 'missing'}: no such bundle directory"
    with pytest.raises(InputError):
        bundle_cli.main(["--debug", *argv] if position == "before" else [*argv, "--debug"])


BUNDLE_INPUTS = {
    "bosh-bundle": [("verify",), ("inspect",), ("publish", "s3://bucket/prefix")],
    "bosh-install": [("verify",), ("install",), ("plan",), ("manifests", "check"), ("deploy", "microbosh")],
}


def test_bundle_is_given_as_bundle_dir_wherever_it_is_an_input(monkeypatch, tmp_path):
    for prog, main in CLIS.items():
        parser = parser_of(main, monkeypatch)
        for argv in BUNDLE_INPUTS[prog]:
            args = parser.parse_args([*argv, "--bundle", str(tmp_path)])
            assert args.bundle == tmp_path, (prog, argv)
        for path, sub in commands(parser):
            positional = [a.dest for a in sub._actions if not a.option_strings]
            assert "bundle" not in positional, f"{prog} {' '.join(path)}: the bundle is a positional only"
            if cliapp.BUNDLE_POSITIONAL in positional:
                assert "--bundle" in sub._option_string_actions, f"{prog} {' '.join(path)}"


def test_the_positional_dir_stays_an_alias_and_two_different_ones_are_refused(tmp_path, capsys):
    (tmp_path / "b").mkdir()
    assert bundle_cli.main(["inspect", str(tmp_path / "b"), "--bundle", str(tmp_path / "c")]) == 2
    assert "two bundle directories given" in capsys.readouterr().err
    assert bundle_cli.main(["inspect"]) == 2
    assert "give the bundle directory (DIR or --bundle DIR)" in capsys.readouterr().err


@pytest.fixture
def bundle_with_a_volume(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    write_test_lock(bundle / "bundle.lock", [artifact("alpha", b"alpha", "file:///alpha")])
    (bundle / "payload.7z.001").write_bytes(b"7z")
    return bundle


@pytest.mark.parametrize(
    "prog,argv",
    [
        ("bosh-bundle", ["verify", "--bundle"]),
        ("bosh-bundle", ["inspect", "--bundle"]),
        ("bosh-bundle", ["publish", "s3://bucket/prefix", "--bundle"]),
        ("bosh-install", ["verify", "--bundle"]),
        ("bosh-install", ["install", "--bundle"]),
        ("bosh-install", ["plan", "--bundle"]),
        ("bosh-install", ["manifests", "check", "--bundle"]),
    ],
)
def test_a_volume_file_given_as_the_bundle_is_one_line_and_exit_2(prog, argv, bundle_with_a_volume, capsys):
    volume = bundle_with_a_volume / "payload.7z.001"
    assert CLIS[prog]([*argv, str(volume)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"{prog}: error: {volume}: is a file, not a bundle directory;"
        f" give the directory that holds it (--bundle {bundle_with_a_volume})\n"
    )


def fake_cli(func):
    """A one-command CLI whose command runs ``func``."""

    class Command:
        @staticmethod
        def register(sub):
            sub.add_parser("go", help="run the test's function").set_defaults(func=lambda args: func())

    return lambda argv: cliapp.run("fake", "a test CLI", [Command], argv)


def test_an_os_error_on_a_users_path_is_one_line_and_exit_1_and_a_traceback_with_debug(tmp_path, capsys):
    def unreadable():
        raise PermissionError(13, "Permission denied", str(tmp_path / "site.yml"))

    main = fake_cli(unreadable)
    assert main(["go"]) == 1
    assert capsys.readouterr().err == (
        f"fake: error: {tmp_path / 'site.yml'}: Permission denied (run with --debug for the traceback)\n"
    )
    with pytest.raises(PermissionError):
        main(["go", "--debug"])


def test_third_party_warnings_are_hidden_unless_debug(capsys):
    namespace = {"__name__": "urllib3.connectionpool"}
    exec("import warnings\ndef noisy():\n    warnings.warn('Unverified HTTPS request')\n    return 0", namespace)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert fake_cli(namespace["noisy"])(["go"]) == 0
    assert not seen
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert fake_cli(namespace["noisy"])(["--debug", "go"]) == 0
        logging.getLogger().handlers.clear()
    assert [str(w.message) for w in seen] == ["Unverified HTTPS request"]


def test_diff_exits_1_when_the_locks_differ_0_when_equal_2_on_bad_input(tmp_path, capsys):
    old = tmp_path / "old.lock"
    write_test_lock(old, [artifact("alpha", b"alpha", "file:///alpha")])
    same = tmp_path / "same.lock"
    same.write_bytes(old.read_bytes())
    new = tmp_path / "new.lock"
    write_test_lock(new, [artifact("alpha", b"alpha", "file:///alpha"), artifact("beta", b"beta", "file:///b")])
    assert bundle_cli.main(["diff", str(old), str(same)]) == 0
    assert capsys.readouterr().out == "no differences\n"
    assert bundle_cli.main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "+ binary beta 1.0 (bin/beta, 4 bytes)" in out
    assert "1 added, 0 removed, 0 changed; 4 B of new content" in out
    assert bundle_cli.main(["diff", "--json", str(old), str(new)]) == 1
    assert [a["name"] for a in json.loads(capsys.readouterr().out)["added"]] == ["beta"]
    assert bundle_cli.main(["diff", str(old), str(tmp_path / "missing.lock")]) == 2


def test_the_lock_records_the_tool_that_wrote_it_and_older_locks_still_read(tmp_path):
    lock = write_test_lock(tmp_path / "old.lock", [artifact("alpha", b"alpha", "file:///alpha")])
    old = json.loads((tmp_path / "old.lock").read_text())
    assert "tool" not in old and parse_lock(json.dumps(old)).tool == ""
    stamped = parse_lock(
        type(lock)(lock.spec_name, lock.target, lock.artifacts, lock.sections, "bosh-offline 9").dumps()
    )
    assert stamped.tool == "bosh-offline 9"
    assert json.loads(stamped.dumps())["tool"] == "bosh-offline 9"
    with pytest.raises(InputError, match=r"written by bosh-offline 9; lock it again on the connected side"):
        parse_lock(json.dumps({**json.loads(stamped.dumps()), "format": 99}), "x.lock")


@pytest.mark.parametrize(
    "n,text",
    [(0, "0 B"), (512, "512 B"), (1_000, "1.0 kB"), (12_345, "12.3 kB"), (99_949, "99.9 kB"), (123_456, "0.1 MB"),
     (1_234_567, "1.2 MB"), (4_000_000_000, "4000.0 MB")],
)  # fmt: skip
def test_sizes_below_a_tenth_of_a_megabyte_are_not_printed_as_zero(n, text):
    assert format_size(n) == text


def test_no_other_size_formatter_prints_megabytes():
    pattern = re.compile(r"/ 1e6:\.\df\} MB|def _mb\(")
    found = [
        f"{path.relative_to(REPO)}:{no}"
        for top in ("bundler", "installer")
        for path in sorted((REPO / top).rglob("*.py"))
        if path != REPO / "bundler" / "core" / "sizes.py"
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, f"use bundler.core.sizes.format_size: {found}"


def test_hints_name_commands_of_their_own_side_of_the_gap():
    pattern = {"installer": re.compile(r"run '?bosh-bundle"), "bundler": re.compile(r"run '?bosh-install")}
    found = [
        f"{path.relative_to(REPO)}:{no}: {line.strip()}"
        for top, wrong in pattern.items()
        for path in sorted((REPO / top).rglob("*.py"))
        if not (top == "bundler" and Path("core") in path.relative_to(REPO / top).parents)
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if wrong.search(line)
    ]
    assert not found, found


def test_an_unencrypted_bundle_is_world_readable_whatever_the_umask(tmp_path):
    (tmp_path / "alpha").write_bytes(b"alpha")
    lock = tmp_path / "bundle.lock"
    write_test_lock(lock, [artifact("alpha", b"alpha", (tmp_path / "alpha").as_uri())])
    out = tmp_path / "bundle"
    old = os.umask(0o077)
    try:
        argv = ["build", "--lock", str(lock), "--out", str(out), "--cache", str(tmp_path / "cache"), "--quiet"]
        assert bundle_cli.main(argv) == 0
    finally:
        os.umask(old)
    modes = {p.relative_to(out).as_posix(): p.stat().st_mode & 0o777 for p in [out, *out.rglob("*")]}
    assert modes.pop(".") == 0o755
    assert modes and all(m in (0o644, 0o755) for m in modes.values()), modes
    assert modes["bundle.lock"] == 0o644


CHANGES = {
    "bosh-bundle": [("lock",), ("build",), ("publish",), ("resplit",), ("sign",)],
    "bosh-install": [
        ("install",),
        ("deploy",),
        ("destroy",),
        ("manifests", "render"),
        ("aws", "prepare"),
        ("aws", "teardown"),
        ("fetch",),
    ],
}
ASKS = {"bosh-install": [("install",), ("deploy",), ("destroy",)]}


def test_one_name_per_concept_json_yes_and_dry_run(monkeypatch):
    for prog, _, path, sub in all_commands(monkeypatch):
        where = f"{prog} {' '.join(path)}"
        options = sub._option_string_actions
        if "--json" in options:
            assert options["--json"].help == cliapp.JSON_HELP, where
        if "--yes" in options or "-y" in options:
            assert options.get("--yes") is options.get("-y") and options["-y"].help == cliapp.YES_HELP, where
        if (prog, path) in [(p, c) for p, cs in CHANGES.items() for c in cs]:
            assert "--dry-run" in options, f"{where} changes something: it takes --dry-run"
        if "--dry-run" in options:
            assert options["--dry-run"].help == cliapp.DRY_RUN_HELP, where
        if (prog, path) in [(p, c) for p, cs in ASKS.items() for c in cs]:
            assert "-y" in options, f"{where} asks: it takes -y/--yes"


def test_lock_and_build_dry_runs_write_nothing(tmp_path, monkeypatch, capsys):
    lock = tmp_path / "bundle.lock"
    write_test_lock(lock, [artifact("alpha", b"alpha", "file:///alpha")])
    assert bundle_cli.main(["build", "--lock", str(lock), "--out", str(tmp_path / "b"), "--dry-run"]) == 0
    assert capsys.readouterr().out == f"would build {tmp_path / 'b'}: 1 artifacts, 5 B\n"
    assert not (tmp_path / "b").exists()


def test_lock_writes_the_tool_that_wrote_it_and_its_dry_run_writes_nothing(tmp_path, monkeypatch, capsys):
    from bundler.commands import lock as lock_command
    from bundler.core.tool import tool_id

    resolved = write_test_lock(tmp_path / "resolved.lock", [artifact("alpha", b"alpha", "file:///alpha")])
    spec = types.SimpleNamespace(path=tmp_path / "bundle.yml", mirrors=())
    monkeypatch.setattr(lock_command, "load_spec", lambda path: spec)
    monkeypatch.setattr(lock_command, "with_mirrors", lambda spec, mirrors: spec)
    monkeypatch.setattr(lock_command, "resolve_spec", lambda spec, ctx: resolved)
    written = tmp_path / "bundle.lock"
    assert bundle_cli.main(["lock", "--spec", str(spec.path), "--dry-run"]) == 0
    assert capsys.readouterr().out == f"{written}: would write 1 artifacts, 5 B\n"
    assert not written.exists()
    assert bundle_cli.main(["lock", "--spec", str(spec.path)]) == 0
    assert json.loads(written.read_text())["tool"] == tool_id() == f"bosh-offline {tool_version()}"
    assert bundle_cli.main(["lock", "--spec", str(spec.path)]) == 0
    assert capsys.readouterr().out.endswith(f"{written}: unchanged (1 artifacts)\n")


def test_the_version_comes_from_pyproject_where_the_package_is_not_installed(monkeypatch):
    from importlib import metadata

    from bundler.core import tool

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(tool.metadata, "version", not_installed)
    tool.tool_version.cache_clear()
    try:
        found = re.search(r'^version = "(.+)"', (REPO / "pyproject.toml").read_text(), re.MULTILINE)
        assert tool.tool_version() == found.group(1)
    finally:
        tool.tool_version.cache_clear()
