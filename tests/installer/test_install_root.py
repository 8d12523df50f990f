"""``bosh-install install --root DIR`` in a minimal chroot with real dpkg: a full run, SIGKILL at
each long step followed by a rerun that completes, and bad input refused before anything changes."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from bundler.core.lock import read_lock
from installer.cli import main
from installer.hostcheck import Host, host_problems
from tests.support.installfixtures import (
    BundleFiles,
    dpkg_status,
    make_deb,
    make_delta_bundle,
    make_gem,
    make_ruby_source,
    write_bundle,
)
from tests.support.miniroot import copy_miniroot, make_miniroot
from tests.support.paths import REPO

STATE = "var/lib/bosh-offline"


@pytest.fixture(scope="session")
def miniroot_template(tmp_path_factory):
    return make_miniroot(tmp_path_factory.mktemp("miniroot") / "root")


@pytest.fixture
def root(miniroot_template, tmp_path):
    return copy_miniroot(miniroot_template, tmp_path / "root")


def build_bundle(tmp_path, *, deb_sleep=0, make_sleep=0, gem_sleep=0, target=None, app="0.3.0", name="bundle"):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    files = BundleFiles()
    if target:
        files.target.update(target)
    post = f"[ -f /tmp/deb-slept ] || {{ touch /tmp/deb-slept; sleep {deb_sleep}; }}" if deb_sleep else "true"
    a = make_deb(src, "bosh-offline-test-a", "1.0", postinst="echo configured > /usr/share/bosh-offline-test-a/ok")
    b = make_deb(src, "bosh-offline-test-b", "2.0", depends="bosh-offline-test-a", postinst=post)
    files.add("deb", a.name.split("_")[0], "1.0", f"debs/{a.name}", a)
    files.add("deb", b.name.split("_")[0], "2.0", f"debs/{b.name}", b)
    ruby = make_ruby_source(src, flavour="standin", slow=make_sleep, slow_gems=gem_sleep)
    files.add("ruby-source", "ruby", "3.1.2", f"ruby/{ruby.name}", ruby)
    for gem_name, version in (("tinylib", "1.2.0"), ("tinyapp", app)):
        gem = make_gem(src, gem_name, version)
        files.add("gem", gem_name, version, f"gems/{gem.name}", gem)
    tool = src / "bosh-init"
    tool.write_text("#!/bin/sh\necho 'version 0.0.81-stand-in'\n")
    files.add("binary", "bosh-init", "0.0.81", "bin/bosh-init", tool)
    files.sections = {
        "debs": {"install_order": [f"debs/{a.name}", f"debs/{b.name}"]},
        "ruby": {"version": "3.1.2", "prefix": "/usr/local", "configure": ["--disable-install-doc"]},
    }
    bundle = tmp_path / name
    write_bundle(files, bundle)
    return bundle


def journal_states(root):
    data = json.loads((root / STATE / "journal.json").read_text())
    return {name: rec["state"] for name, rec in data["steps"].items()}


def assert_installed(root):
    status = dpkg_status(root)
    assert status["bosh-offline-test-a"] == status["bosh-offline-test-b"] == "install ok installed"
    assert (root / "usr/share/bosh-offline-test-a/ok").read_text() == "configured\n"  # postinst ran in the root
    assert (root / "usr/local/bin/ruby").is_file()
    assert (root / "usr/local/lib/standin-gems").read_text().split("\n").count("tinyapp (0.3.0)") >= 1
    tool = root / "usr/local/bin/bosh-init"
    assert tool.stat().st_mode & 0o777 == 0o755
    assert set(journal_states(root).values()) == {"done"}


def test_install_into_a_root_installs_everything_inside_it(tmp_path, root, capsys):
    bundle = build_bundle(tmp_path)
    assert main(["install", "--bundle", str(bundle), "--root", str(root), "--yes"]) == 0
    assert_installed(root)
    err = capsys.readouterr().err
    assert "ruby: make" in err and "clis: bosh-init" in err
    assert (root / STATE / "logs/install.log").read_text().startswith("20")  # timestamped lines
    assert "Setting up bosh-offline-test-b" in (root / STATE / "logs/debs.log").read_text()


def _start(bundle, root):
    return subprocess.Popen(
        [sys.executable, "-m", "installer", "install", "--bundle", str(bundle), "--root", str(root), "--yes"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _kill_when(proc, predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the installer never reached the point to kill it at"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize(
    ("step", "slow", "marker"),
    [
        ("debs", {"deb_sleep": 30}, "tmp/deb-slept"),
        ("ruby", {"make_sleep": 30}, "tmp/make-slept"),
        ("gems", {"gem_sleep": 30}, "tmp/gems-slept"),
    ],
)
def test_sigkill_during_a_step_then_rerun_completes(tmp_path, root, step, slow, marker, capsys):
    bundle = build_bundle(tmp_path, **slow)
    proc = _start(bundle, root)
    _kill_when(proc, lambda: (root / marker).exists())
    assert journal_states(root)[step] == "running"
    assert main(["status", "--root", str(root)]) == 1  # not everything done
    shown = [line.split()[:2] for line in capsys.readouterr().out.splitlines()[1:] if not line.startswith(" ")]
    names = [name for name, _state in shown]
    assert names == [n for n in ("verify", "extract", "debs", "ruby", "gems") if n in names]  # install order
    assert dict(shown)[step] == "interrupted"
    rerun = subprocess.run(
        [sys.executable, "-m", "installer", "install", "--bundle", str(bundle), "--root", str(root), "--yes"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{step}: starting (was interrupted; runs again)" in rerun.stderr
    assert_installed(root)
    if step == "ruby":  # killed during make: the rerun resumes with make, configure ran once
        assert "resuming the interrupted build with make" in rerun.stderr
        assert (root / STATE / "logs/ruby.log").read_text().count("./configure --prefix") == 1
        assert json.loads((root / STATE / "journal.json").read_text())["steps"]["ruby"]["facts"]["built"] == "resumed"


def _untouched(root):
    return not (root / STATE).exists() and dpkg_status(root) == {} and not (root / "usr/local/bin/bosh-init").exists()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"arch": "arm64"}, "this bundle is for arm64, but this machine is amd64"),
        ({"release": "14.04", "os": "ubuntu", "codename": "trusty"}, "this bundle is for ubuntu 14.04 (trusty)"),
    ],
)
def test_a_bundle_for_another_host_is_refused_before_any_change(tmp_path, root, capsys, target, message):
    bundle = build_bundle(tmp_path, target=target)
    assert main(["install", "--bundle", str(bundle), "--root", str(root), "--yes"]) == 1
    err = capsys.readouterr().err
    assert "preflight failed, nothing was changed" in err and message in err
    assert _untouched(root)


def test_a_corrupted_payload_is_refused_before_any_package_is_installed(tmp_path, root, capsys):
    bundle = build_bundle(tmp_path)
    payload = bundle / "payload.7z"
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0xFF
    payload.write_bytes(bytes(data))
    assert main(["install", "--bundle", str(bundle), "--root", str(root), "--yes"]) == 1
    assert "payload.7z" in capsys.readouterr().err
    assert dpkg_status(root) == {} and not (root / "usr/local/bin/bosh-init").exists()
    assert not (root / STATE / "payload").exists()
    assert journal_states(root) == {"verify": "failed"}


def test_insufficient_disk_is_refused_before_any_change(tmp_path, root, capsys):
    bundle = build_bundle(tmp_path)
    state = root / STATE
    state.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(state)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        assert main(["install", "--bundle", str(bundle), "--root", str(root), "--yes"]) == 1
        err = capsys.readouterr().err
        assert "free, need" in err and "--state-dir" in err
        assert list(state.iterdir()) == [] and dpkg_status(root) == {}
    finally:
        subprocess.run(["umount", str(state)], check=True)


def test_host_checks_list_every_problem_including_not_root(tmp_path, root):
    bundle = build_bundle(tmp_path, target={"arch": "arm64"})
    lock = read_lock(bundle / "bundle.lock")
    host = Host(root, euid=1000, free_bytes=lambda _p: 10)
    problems = [str(p) for p in host_problems(lock, bundle, host, root / STATE, chroot=True, needs_dpkg=True)]
    assert len(problems) == 3
    assert "must run as root" in problems[0] and "arm64" in problems[1] and "free, need" in problems[2]


def test_a_deb_that_fails_is_named_with_dpkgs_message(tmp_path, root, capsys):
    src = tmp_path / "src"
    src.mkdir()
    bad = make_deb(src, "bosh-offline-test-bad", "1.0", postinst="echo 'cannot set up' >&2; exit 3")
    files = BundleFiles()
    files.add("deb", "bosh-offline-test-bad", "1.0", f"debs/{bad.name}", bad)
    files.sections = {"debs": {"install_order": [f"debs/{bad.name}"]}}
    write_bundle(files, tmp_path / "bundle")
    assert main(["install", "--bundle", str(tmp_path / "bundle"), "--root", str(root), "--yes"]) == 1
    err = capsys.readouterr().err
    assert "dpkg could not install bosh-offline-test-bad" in err
    assert "installed bosh-offline-test-bad package post-installation script subprocess returned error" in err
    assert journal_states(root)["debs"] == "failed"


def rebundle(first, dest, drop=(), add=()):
    """``first``'s artifacts (the same files), without the paths in ``drop``, plus ``add``."""
    lock = json.loads((first / "bundle.lock").read_text())
    files = BundleFiles()
    for art in lock["artifacts"]:
        if art["path"] not in drop:
            src = first.parent / "src" / {"binary": "bosh-init"}.get(art["kind"], art["path"].rsplit("/", 1)[-1])
            files.add(art["kind"], art["name"], art["version"], art["path"], src)
    for item in add:
        files.add(*item)
    files.sections = lock["sections"]
    write_bundle(files, dest)
    return dest


def test_a_newer_bundle_reruns_only_the_steps_whose_inputs_changed(tmp_path, root, capsys):
    first = build_bundle(tmp_path)
    assert main(["install", "--bundle", str(first), "--root", str(root), "--yes"]) == 0
    before = json.loads((root / STATE / "journal.json").read_text())["steps"]
    gem = make_gem(tmp_path / "src", "tinyapp", "0.3.1")  # one gem changed
    changed = ("gem", "tinyapp", "0.3.1", f"gems/{gem.name}", gem)
    second = rebundle(first, tmp_path / "bundle2", drop=("gems/tinyapp-0.3.0.gem",), add=[changed])
    capsys.readouterr()
    assert main(["install", "--bundle", str(second), "--root", str(root), "--yes"]) == 0
    err = capsys.readouterr().err
    after = json.loads((root / STATE / "journal.json").read_text())["steps"]
    rerun = {name for name in after if name != "done" and after[name]["started"] != before[name]["started"]}
    assert rerun == {"verify", "extract", "gems"}, err
    assert "gems: starting (done, but its inputs changed)" in err
    facts = after["extract"]["facts"]
    assert (facts["extracted"], facts["kept"], facts["removed"]) == (1, 5, 1)
    assert facts["changed"] == ["gems/tinyapp-0.3.1.gem"]
    payload = root / STATE / "payload/gems"
    assert sorted(p.name for p in payload.iterdir()) == ["tinyapp-0.3.1.gem", "tinylib-1.2.0.gem"]
    assert "tinyapp (0.3.1)" in (root / "usr/local/lib/standin-gems").read_text()


def test_a_bundle_with_only_an_unconsumed_artifact_changed_is_extracted(tmp_path, root, capsys):
    """Nothing installs the artifact (a stemcell, say), but deploy reads it from the payload."""
    first = build_bundle(tmp_path)
    assert main(["install", "--bundle", str(first), "--root", str(root), "--yes"]) == 0
    extra = tmp_path / "src/extra.yml"
    extra.write_text("name: extra\n")
    second = rebundle(first, tmp_path / "bundle2", add=[("manifest", "extra", "1", "manifests/extra.yml", extra)])
    capsys.readouterr()
    assert main(["install", "--bundle", str(second), "--root", str(root), "--yes"]) == 0
    err = capsys.readouterr().err
    assert "nothing to do" not in err and "the bundle's artifacts changed" in err
    assert (root / STATE / "payload/manifests/extra.yml").read_text() == "name: extra\n"
    assert "debs: starting" not in err and "ruby: starting" not in err and "gems: starting" not in err


def test_a_ruby_already_installed_is_not_rebuilt_under_a_new_state_dir(tmp_path, root, capsys):
    bundle = build_bundle(tmp_path)
    assert main(["install", "--bundle", str(bundle), "--root", str(root), "--yes"]) == 0
    other = root / "var/lib/other-state"
    capsys.readouterr()
    args = ["install", "--bundle", str(bundle), "--root", str(root), "--state-dir", str(other), "--yes"]
    assert main(args) == 0
    assert "not building it again" in capsys.readouterr().err
    assert "./configure" not in (other / "logs/ruby.log").read_text()
    facts = json.loads((other / "journal.json").read_text())["steps"]["ruby"]["facts"]
    assert facts["built"] == "no, already installed" and facts["version"].startswith("ruby 3.1.2")


def _gem_upgrade(tmp_path):
    first = build_bundle(tmp_path)
    gem = make_gem(tmp_path / "src", "tinyapp", "0.3.1")
    changed = ("gem", "tinyapp", "0.3.1", f"gems/{gem.name}", gem)
    second = rebundle(first, tmp_path / "bundle2", drop=("gems/tinyapp-0.3.0.gem",), add=[changed])
    delta = make_delta_bundle(second, first / "bundle.lock", tmp_path / "delta")
    return first, delta


def test_a_delta_bundle_installs_on_top_of_the_previous_payload(tmp_path, root, capsys):
    first, delta = _gem_upgrade(tmp_path)
    assert main(["verify", str(delta)]) == 0  # a delta verifies: its payload against its packed artifacts
    assert main(["install", "--bundle", str(first), "--root", str(root), "--yes"]) == 0
    before = json.loads((root / STATE / "journal.json").read_text())["steps"]
    capsys.readouterr()
    assert main(["install", "--bundle", str(delta), "--root", str(root), "--yes"]) == 0
    after = json.loads((root / STATE / "journal.json").read_text())["steps"]
    rerun = {name for name in after if name != "done" and after[name]["started"] != before[name]["started"]}
    assert rerun == {"verify", "extract", "gems"}
    assert after["extract"]["facts"]["changed"] == ["gems/tinyapp-0.3.1.gem"]
    assert "tinyapp (0.3.1)" in (root / "usr/local/lib/standin-gems").read_text()


def test_a_delta_bundle_without_its_previous_payload_is_refused_naming_what_is_missing(tmp_path, root, capsys):
    _first, delta = _gem_upgrade(tmp_path)
    assert main(["install", "--bundle", str(delta), "--root", str(root), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "a delta bundle" in err and "lacks 5 of the artifacts it builds on" in err
    assert "debs/bosh-offline-test-a_1.0_all.deb" in err and "install the full bundle of that lock first" in err
    assert _untouched(root)
