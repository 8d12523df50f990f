"""Hostile files (issue 13): payloads, bundle directories, locks and YAML inputs, each refused with
one clear line (or one problem line in a report), the right exit code, nothing written outside the
intended place and nothing of the input lost or changed.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import py7zr
import pytest

from bundler import cli
from bundler.core.archive import Member
from bundler.core.bundlemeta import new_meta
from bundler.core.extract import extract_payload, member_problems
from bundler.core.lock import parse_lock, read_lock
from installer import cli as install_cli
from tests.support.smallbundle import copy_bundle, small_bundle, snapshot
from tests.support.synthetic import artifact, file_url, make_files, write_test_lock


def one_line(capsys, prog: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{prog}: error: "), err
    assert "Traceback" not in err
    return err


# --- bundle directories -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return small_bundle(tmp_path_factory.mktemp("tpl"), {"alpha": 30_000, "beta": 2_000}, new_meta(3))


@pytest.fixture
def bundle(template, tmp_path):
    return copy_bundle(template, tmp_path / "bundle")


def verify_both(bundle: Path, capsys) -> str:
    """Both CLIs' verify: exit 1 each, the same report, and the bundle unchanged."""
    before = snapshot(bundle)
    codes = []
    for main in (cli.main, install_cli.main):
        done = []
        t = threading.Thread(target=lambda m=main, d=done: d.append(m(["verify", str(bundle)])), daemon=True)
        t.start()
        t.join(30)
        assert done, "verify hung (it opened something it must not)"
        codes.append(done[0])
    assert codes == [1, 1]
    assert snapshot(bundle) == before
    return capsys.readouterr().out


def test_fifo_as_payload_is_reported_not_opened(bundle, capsys):
    (bundle / "payload.7z").unlink()
    os.mkfifo(bundle / "payload.7z")
    out = verify_both(bundle, capsys)
    assert out.count("payload.7z: not a regular file (FIFO, device, socket or symlink); not opened") == 2


def test_fifo_as_lock_is_reported_not_opened(bundle, capsys):
    (bundle / "bundle.lock").unlink()
    os.mkfifo(bundle / "bundle.lock")
    assert "bundle.lock: not a regular file" in verify_both(bundle, capsys)


def test_symlink_to_a_host_file_is_reported(bundle, capsys):
    (bundle / "extra").symlink_to("/etc/passwd")
    assert "extra: not a regular file" in verify_both(bundle, capsys)


def test_sums_naming_a_file_outside_the_bundle(bundle, capsys):
    with open(bundle / "SHA256SUMS", "a") as f:
        f.write("0" * 64 + "  ../../etc/passwd\n")
    assert "SHA256SUMS names '../../etc/passwd', which is not a file inside the bundle" in verify_both(bundle, capsys)


def test_stray_file_is_named(bundle, capsys):
    (bundle / "evil.sh").write_text("#!/bin/sh\nrm -rf /\n")
    assert "evil.sh: stray file, not listed in SHA256SUMS" in verify_both(bundle, capsys)


def test_missing_sums(bundle, capsys):
    (bundle / "SHA256SUMS").unlink()
    assert "SHA256SUMS is missing" in verify_both(bundle, capsys)


def test_binary_garbage_sums(bundle, capsys):
    (bundle / "SHA256SUMS").write_bytes(os.urandom(200) + b"\n")
    assert "not a '<sha256>  <file>' line" in verify_both(bundle, capsys)


def test_truncated_payload(bundle, capsys):
    with open(bundle / "payload.7z", "r+b") as f:
        f.truncate(5000)
    assert "payload.7z" in verify_both(bundle, capsys)


def test_metadata_that_is_not_json(bundle, capsys):
    (bundle / "bundle.json").write_text("{serial: 9")
    out = verify_both(bundle, capsys)
    assert "bundle.json: not JSON" in out and "bundle.json: file is damaged or altered" in out


def test_missing_bundle_directory_is_bad_input(tmp_path, capsys):
    assert cli.main(["verify", str(tmp_path / "nope")]) == 2
    assert "no such bundle directory" in one_line(capsys, "bosh-bundle")


# --- payloads ---------------------------------------------------------------------------------


def _lock_for(tmp_path, members: dict[str, bytes]):
    arts = [artifact(p.rsplit("/", 1)[-1], d, "http://127.0.0.1/x", path=p) for p, d in members.items()]
    return write_test_lock(tmp_path / "bundle.lock", arts)


def _payload(bundle: Path, entries) -> Path:
    bundle.mkdir(exist_ok=True)
    with py7zr.SevenZipFile(bundle / "payload.7z", "w", filters=[{"id": py7zr.FILTER_COPY}]) as z:
        for name, data in entries:
            z._writestr(data, name)  # the private writer does not refuse hostile names
    return bundle


@pytest.mark.parametrize(
    "entries, expect",
    [
        ([("bin/a", b"a" * 100), ("../evil", b"x")], "unsafe path"),
        ([("bin/a", b"a" * 100), ("bin/../../evil", b"x")], "unsafe path"),
        ([("bin/a", b"a" * 100), ("/tmp/w2g-evil-absolute", b"x")], "unsafe path"),
        ([("bin/a", b"a" * 100), ("bin/extra", b"x")], "not in bundle.lock"),
        ([("bin/a", b"a" * 101)], "more than the 100 bytes"),
        ([("bin/a", b"b" * 100)], "sha256"),
        ([("bin/a", b"a" * 100), ("bin/a", b"a" * 100)], "appears twice"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "extra", "larger", "wrong-bytes", "twice"],
)
def test_hostile_payload_is_refused_before_writing(tmp_path, entries, expect):
    lock = _lock_for(tmp_path, {"bin/a": b"a" * 100})
    bundle = _payload(tmp_path / "bundle", entries)
    before = snapshot(tmp_path)
    with pytest.raises(Exception, match=expect) as err:
        extract_payload(bundle, tmp_path / "out", lock)
    assert getattr(err.value, "exit_code", None) == 1
    assert not (tmp_path / "out").exists() and not os.path.exists("/tmp/w2g-evil-absolute")
    assert snapshot(tmp_path) == before  # no staging directory left, nothing else written


def test_directory_entry_carrying_data_is_refused(tmp_path):
    lock = _lock_for(tmp_path, {"bin/a": b"a"})
    members = [Member("bin/a", 1, "file", None), Member("bin", 4096, "dir", None)]
    assert member_problems(members, lock) == ["payload member bin is a directory carrying 4096 bytes; refusing it"]
    assert member_problems([Member("bin/a", 1, "file", None), Member("bin", 0, "dir", None)], lock) == []


# --- locks ------------------------------------------------------------------------------------


def _lock_text(tmp_path, **change) -> dict:
    files = make_files(tmp_path / "src", {"a": 10, "b": 20})
    lock = write_test_lock(
        tmp_path / "good.lock", [artifact(n, d, file_url(tmp_path / "src" / n)) for n, d in files.items()]
    )
    data = lock.to_json()
    data.update(change)
    return data


def _refused(tmp_path, capsys, data, expect: str) -> None:
    path = tmp_path / "bundle.lock"
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data if isinstance(data, str) else json.dumps(data))
    before = snapshot(tmp_path)
    code = cli.main(["build", "--lock", str(path), "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "c")])
    assert code == 2
    assert expect in one_line(capsys, "bosh-bundle")
    assert snapshot(tmp_path) == before  # no out, no cache, the lock untouched


def test_two_artifacts_on_one_path(tmp_path, capsys):
    data = _lock_text(tmp_path)
    data["artifacts"][1]["path"] = data["artifacts"][0]["path"]
    _refused(tmp_path, capsys, data, "artifacts[0] and artifacts[1] both have the path 'bin/a'")


@pytest.mark.parametrize("name", ["../../usr/bin/sudo", "a/b", "..", "."])
def test_binary_name_that_is_not_a_file_name(tmp_path, capsys, name):
    data = _lock_text(tmp_path)
    data["artifacts"][0]["name"] = name
    _refused(tmp_path, capsys, data, f"binary name {name!r} is not a plain file name")


def test_artifact_path_leaving_the_payload(tmp_path, capsys):
    data = _lock_text(tmp_path)
    data["artifacts"][0]["path"] = "../etc/cron.d/x"
    _refused(tmp_path, capsys, data, "is not a relative path inside the bundle")


def test_artifacts_not_a_list(tmp_path, capsys):
    _refused(tmp_path, capsys, _lock_text(tmp_path, artifacts=7), "artifacts is not a list")


def test_lock_not_utf8(tmp_path, capsys):
    _refused(tmp_path, capsys, b"\xff\xfe{}", "not UTF-8 text")


def test_lock_nested_too_deeply(tmp_path, capsys):
    _refused(tmp_path, capsys, "[" * 100_000, "nested too deeply")


def test_lock_too_large_is_not_read(tmp_path):
    path = tmp_path / "bundle.lock"
    with open(path, "wb") as f:
        f.truncate(65 << 20)  # sparse
    with pytest.raises(Exception, match="too large for a lock") as err:
        read_lock(path)
    assert err.value.exit_code == 2


def test_lock_with_bad_sha256(tmp_path):
    data = _lock_text(tmp_path)
    data["artifacts"][0]["sha256"] = "ABC"
    with pytest.raises(Exception, match="is not 64 lowercase hex digits") as err:
        parse_lock(json.dumps(data))
    assert err.value.exit_code == 2 and "\n" not in str(err.value)


# --- YAML inputs (specs, site files) -----------------------------------------------------------

BASE = 'target: {os: debian, release: "12", codename: bookworm, arch: amd64}\n'


@pytest.mark.parametrize(
    "text, expect",
    [
        ("a: &x [1, 2]\nb: *x\n", ":2: not valid YAML: aliases (*x) are not allowed here"),
        ("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n", ":2: not valid YAML: aliases (*a) are not allowed here"),
        ("a: &a [*a]\n", ":1: not valid YAML: aliases (*a) are not allowed here"),
        (BASE + "ruby:\n  version: 1\nruby:\n  version: 2\n", ":4: ruby: duplicate key (first at line 2)"),
        ("? [a, b]\n: c\n", ":1: ?: a key must be a plain value, not a list"),
        ("a: \x07bell\n", "not valid YAML: unacceptable character #x0007"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "not valid YAML: nested too deeply"),
        ("a: !!python/object/apply:os.system ['touch /tmp/w2g-pwned']\n", ":1: a: the tag tag:yaml.org,2002:python/o"),
        ("a:\n\tb: 1\n", ":2: not valid YAML: found character '\\t' that cannot start any token"),
        (b"a: \xff\n", "cannot read"),
    ],
    ids=["alias", "billion-laughs", "self-alias", "duplicate", "unhashable", "control", "deep", "python-tag", "tab",
         "not-utf8"],
)  # fmt: skip
def test_hostile_spec_is_one_line_exit_2(tmp_path, capsys, text, expect):
    spec = tmp_path / "bundle.yml"
    spec.write_bytes(text if isinstance(text, bytes) else text.encode())
    before = snapshot(tmp_path)
    code = cli.main(["lock", "--spec", str(spec), "--dry-run", "--cache", str(tmp_path / "cache")])
    assert code == 2
    err = one_line(capsys, "bosh-bundle")
    assert str(spec) in err and expect in err, err
    assert snapshot(tmp_path) == before and not os.path.exists("/tmp/w2g-pwned")


def test_hostile_site_file_is_one_line_exit_2(tmp_path, capsys):
    site = tmp_path / "site.yml"
    site.write_text("name: a\nname: b\n")
    before = snapshot(tmp_path)
    assert install_cli.main(["manifests", "check", "--site", str(site), "--lock", str(tmp_path / "x.lock")]) == 2
    assert f"{site}:2: name: duplicate key (first at line 1)" in one_line(capsys, "bosh-install")
    assert snapshot(tmp_path) == before


def test_oversized_yaml_is_not_read(tmp_path, capsys):
    spec = tmp_path / "bundle.yml"
    with open(spec, "wb") as f:
        f.truncate(17 << 20)
    assert cli.main(["lock", "--spec", str(spec), "--dry-run", "--cache", str(tmp_path / "c")]) == 2
    assert "too large for this file" in one_line(capsys, "bosh-bundle")
