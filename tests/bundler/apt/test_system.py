"""This machine's apt configuration is read as apt reads it: deb822 and one-line files, nothing else."""

from __future__ import annotations

import os

import pytest

from bundler.apt.system import read_system_sources
from bundler.core.errors import InputError


def test_reads_sources_and_list_files_and_ignores_other_suffixes(tmp_path):
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (tmp_path / "trusted.gpg.d").mkdir()
    (tmp_path / "trusted.gpg.d" / "a.gpg").write_bytes(b"")
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb [arch=amd64 signed-by=/k/one.gpg] http://a.example.invalid/debian stable main contrib\n"
        "deb-src http://a.example.invalid/debian stable main\n"
        "deb http://b.example.invalid/ubuntu trusty-updates main universe  # trailing\n"
    )
    (d / "x.sources").write_text(
        "Types: deb deb-src\n# a comment inside\nURIs: http://c.example.invalid/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\nSigned-By: /k/two.gpg\n\n"
        "Types: deb\nURIs: http://off.example.invalid/\nSuites: x\nComponents: main\nEnabled: no\n"
    )
    (d / "y.list.disabled-by-farm").write_text("deb http://nope.example.invalid/ x main\n")
    (d / "z.sources.disabled-by-farm").write_text("Types: deb\nURIs: http://nope.example.invalid/\nSuites: x\n")
    got = read_system_sources(tmp_path)
    fallback = str(tmp_path / "trusted.gpg.d" / "a.gpg")
    assert [(s.url, s.suites, s.components, s.keyring, s.trusted) for s in got] == [
        ("http://a.example.invalid/debian", ("stable",), ("main", "contrib"), "/k/one.gpg", False),
        ("http://b.example.invalid/ubuntu", ("trusty-updates",), ("main", "universe"), fallback, False),
        ("http://c.example.invalid/debian", ("bookworm", "bookworm-updates"), ("main",), "/k/two.gpg", False),
    ]  # fmt: skip


def test_inline_keys_are_refused_with_a_reason(tmp_path):
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (d / "k.sources").write_text(
        "Types: deb\nURIs: http://c.example.invalid/\nSuites: s\nComponents: main\nSigned-By:\n"
        " -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n"
    )
    with pytest.raises(InputError, match="k.sources: stanza 1: Signed-By must name a keyring file"):
        read_system_sources(tmp_path)


def test_no_sources_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no enabled 'deb' sources"):
        read_system_sources(tmp_path)


def test_this_machine_has_a_signed_debian_source():
    if not os.path.exists("/etc/apt/sources.list.d") and not os.path.exists("/etc/apt/sources.list"):
        pytest.skip("no apt configuration on this machine")
    sources = read_system_sources()
    assert sources and all(s.keyring or s.trusted for s in sources)
