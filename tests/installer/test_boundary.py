"""The offline side imports only the bundle core of ``bundler``: never the resolvers, never the
network layer, never ``requests`` or ``resolvelib`` (the standalone runtime does not carry them).

Checked in a fresh interpreter, so what pytest itself has imported does not count."""

import json
import subprocess
import sys

from tests.support.paths import REPO

PROBE = r"""
import importlib, json, pkgutil, sys
import installer, installer.cli, installer.commands, installer.steps
for pkg in (installer,):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""


def test_installer_imports_only_the_bundle_core():
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, check=True)
    modules = set(json.loads(proc.stdout))
    assert "installer.cli" in modules and "installer.steps.ruby" in modules and "installer.aws.prepare" in modules
    assert not {"requests", "resolvelib"} & modules
    ours = {m for m in modules if m == "bundler" or m.startswith("bundler.")}
    outside_core = sorted(m for m in ours if m not in ("bundler",) and not m.startswith("bundler.core"))
    assert outside_core == []


def test_the_bundle_core_imports_nothing_of_the_connected_side():
    probe = PROBE.replace("import installer, installer.cli, installer.commands, installer.steps", "import bundler.core")
    probe = probe.replace("for pkg in (installer,)", "for pkg in (sys.modules['bundler.core'],)")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    modules = set(json.loads(proc.stdout))
    assert "bundler.core.verify" in modules
    assert not {"requests", "resolvelib", "installer"} & modules
    assert sorted(m for m in modules if m.startswith("bundler.") and not m.startswith("bundler.core")) == []
