"""``bosh-install manifests render|check`` from the command line (in-process)."""

import json
import stat

import yaml

from installer.cli import main
from tests.support.deployfixtures import GUIDE_SITE, make_fixture


def _args(fx, tmp_path, *extra):
    return ["--site", str(fx.site_path), "--lock", str(fx.lock_path), "--payload", str(fx.payload),
            "--state-dir", str(tmp_path / "state"), *extra]  # fmt: skip


def test_render_writes_both_manifests_privately(tmp_path, capsys):
    fx = make_fixture(tmp_path)
    out = tmp_path / "out"
    code = main(["manifests", "render", *_args(fx, tmp_path, "--out", str(out), "--director-uuid", "u-1")])
    assert code == 0, capsys.readouterr()
    for kind in ("microbosh", "bosh"):
        assert stat.S_IMODE((out / f"{kind}.yml").stat().st_mode) == 0o600
    assert yaml.safe_load((out / "bosh.yml").read_text())["director_uuid"] == "u-1"
    assert "wrote" in capsys.readouterr().out


def test_check_reports_every_problem_with_exit_code_2(tmp_path, capsys):
    text = GUIDE_SITE.replace("region: us-east-1\n", "region: us-east-1a\n").replace(
        "static_ip: 10.0.0.6", "static_ip: 10.1.0.6"
    )
    fx = make_fixture(tmp_path, text)
    assert main(["manifests", "check", *_args(fx, tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "aws.region: 'us-east-1a' is an availability zone" in err
    assert "microbosh.static_ip: 10.1.0.6 is outside network.cidr 10.0.0.0/24" in err
    assert main(["manifests", "check", "--json", *_args(fx, tmp_path)]) == 2
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"] and len(report["problems"]) >= 2


def test_check_of_a_good_site(tmp_path, capsys):
    fx = make_fixture(tmp_path)
    assert main(["manifests", "check", *_args(fx, tmp_path)]) == 0
    assert "no problems" in capsys.readouterr().out


def test_render_dry_run_checks_and_writes_nothing(tmp_path, capsys):
    fx = make_fixture(tmp_path)
    out = tmp_path / "out"
    assert main(["manifests", "render", "--dry-run", *_args(fx, tmp_path, "--out", str(out))]) == 0
    assert f"would write microbosh, bosh into {out}" in capsys.readouterr().out
    assert not out.exists()
