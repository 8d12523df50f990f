"""The installer on this host, with everything it changes redirected into tmp_path: dpkg through
``DPKG_ROOT``, Ruby's prefix under tmp_path.  Real dpkg, real ``gem install`` of real gems, a fake
Ruby source with a real configure script and Makefile."""

import json

import pytest

from installer.cli import main
from tests.support.installfixtures import (
    BundleFiles,
    dpkg_status,
    make_deb,
    make_dpkg_root,
    make_gem,
    make_ruby_source,
    write_bundle,
)


@pytest.fixture
def host_bundle(tmp_path, monkeypatch):
    """A bundle of two debs (b depends on a), a wrapped Ruby 3.1.2 and two gems (app needs lib)."""
    src = tmp_path / "src"
    src.mkdir()
    files = BundleFiles()
    a = make_deb(src, "bosh-offline-test-a", "1.0")
    b = make_deb(src, "bosh-offline-test-b", "2.0", depends="bosh-offline-test-a (>= 1.0)")
    files.add("deb", "bosh-offline-test-a", "1.0", f"debs/{a.name}", a)
    files.add("deb", "bosh-offline-test-b", "2.0", f"debs/{b.name}", b)
    ruby = make_ruby_source(src)
    files.add("ruby-source", "ruby", "3.1.2", f"ruby/{ruby.name}", ruby)
    lib = make_gem(src, "tinylib", "1.2.0")
    app = make_gem(src, "tinyapp", "0.3.0", deps=(("tinylib", "~> 1.2"),))
    files.add("gem", "tinylib", "1.2.0", f"gems/{lib.name}", lib)
    deps = {"dependencies": [["tinylib", "~> 1.2"]]}  # as the gem resolver records it; verify checks it
    files.add("gem", "tinyapp", "0.3.0", f"gems/{app.name}", app, meta=deps)
    prefix = tmp_path / "prefix"
    files.sections = {
        "debs": {"install_order": [f"debs/{a.name}", f"debs/{b.name}"]},
        "ruby": {"version": "3.1.2", "prefix": str(prefix), "configure": ["--disable-install-doc"]},
    }
    bundle = tmp_path / "bundle"
    write_bundle(files, bundle)
    dpkg_root = make_dpkg_root(tmp_path / "dpkgroot")
    monkeypatch.setenv("DPKG_ROOT", str(dpkg_root))
    return bundle, tmp_path / "state", dpkg_root, prefix


def install(bundle, state, *extra):
    return main(["install", "--bundle", str(bundle), "--state-dir", str(state), "--yes", *extra])


def test_install_runs_every_step_and_a_rerun_does_nothing(host_bundle, capsys):
    bundle, state, dpkg_root, prefix = host_bundle
    assert install(bundle, state) == 0
    status = dpkg_status(dpkg_root)
    assert status["bosh-offline-test-a"] == "install ok installed"
    assert status["bosh-offline-test-b"] == "install ok installed"
    assert (prefix / "bin/ruby").is_file()
    gems = sorted(p.name for p in (prefix / "gemhome/specifications").iterdir())
    assert gems == ["tinyapp-0.3.0.gemspec", "tinylib-1.2.0.gemspec"]
    journal = json.loads((state / "journal.json").read_text())
    assert {n: s["state"] for n, s in journal["steps"].items()} == dict.fromkeys(
        ["debs", "done", "extract", "gems", "ruby", "verify"], "done"
    )
    assert "configure" in (state / "logs/ruby.log").read_text()
    capsys.readouterr()
    assert install(bundle, state) == 0
    assert "nothing to do" in capsys.readouterr().err
    assert main(["status", "--state-dir", str(state)]) == 0


def test_plan_shows_what_would_run_and_changes_nothing(host_bundle, capsys):
    bundle, state, dpkg_root, _prefix = host_bundle
    assert main(["plan", "--bundle", str(bundle), "--state-dir", str(state), "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert [(p["step"], p["run"]) for p in planned] == [
        ("verify", True),
        ("extract", True),
        ("debs", True),
        ("ruby", True),
        ("gems", True),
        ("clis", False),
    ]
    assert not state.exists() and dpkg_status(dpkg_root) == {}


def test_progress_counts_packages_on_a_terminal_and_is_quiet_otherwise():
    import io

    from bundler.core.progress import NULL_COUNTER, TermProgress, counter

    shown = io.StringIO()
    bar = counter(TermProgress(force=True, stream=shown), "debs", 3, "packages")
    for _ in range(4):  # one more than expected (an estimate) stops at 100%
        bar.step()
    bar.close()
    assert "debs" in shown.getvalue() and "3/3 packages" in shown.getvalue() and "100%" in shown.getvalue()
    assert counter(TermProgress(stream=io.StringIO()), "gems", 5, "gems") is NULL_COUNTER  # not a terminal
