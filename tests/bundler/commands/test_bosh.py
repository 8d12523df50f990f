"""``bosh-bundle bosh check``: an operator's tarballs, checked stand-alone."""

import json

from bundler import cli
from tests.support import boshfixtures as bf


def test_good_tarballs_pass_and_json_reports_what_they_are(tmp_path, capsys):
    rel = bf.write_release(tmp_path, "bosh", "233")
    light = bf.write_stemcell(tmp_path, bf.HVM, "3147", light=True, ami={"us-east-1": "ami-e62f158c"})
    heavy = bf.write_stemcell(tmp_path, bf.PV, "3147")
    assert cli.main(["bosh", "check", str(rel.path), str(light.path), str(heavy.path), "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out
    assert f"ok: release bosh 233 ({rel.path})" in out
    assert "AMIs in us-east-1" in out
    assert cli.main(["bosh", "check", "--json", str(rel.path), str(light.path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    r, s = report["tarballs"]
    assert (r["kind"], r["name"], r["version"], r["sha1"], r["sha256"]) == (
        "release",
        "bosh",
        "233",
        rel.sha1,
        rel.sha256,
    )
    assert (s["kind"], s["variant"], s["ami"]) == ("stemcell", "light", {"us-east-1": "ami-e62f158c"})


def test_each_bad_tarball_is_named_with_its_inner_file(tmp_path, capsys):
    bad_rel = bf.write_release(tmp_path, "bosh", "233", corrupt_package="director")
    original = b"heavy image" * 100
    swapped = bf.write_stemcell(tmp_path, bf.PV, "3147", image=b"other image" * 100, manifest_sha1=bf.sha1(original))
    light = bf.write_stemcell(tmp_path, bf.HVM, "3147", light=True, ami={"us-west-2": "ami-54328238"})
    argv = ["bosh", "check", str(bad_rel.path), str(swapped.path), str(light.path), "--region", "us-east-1"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert f"release bosh 233 ({bad_rel.path}): packages/director.tgz sha1 " in err
    assert f"stemcell {bf.PV} 3147 ({swapped.path}): image sha1 {bf.sha1(b'other image' * 100)} does not match" in err
    assert (
        f"stemcell {bf.HVM} 3147 ({light.path}): stemcell.MF cloud_properties.ami has no AMI for region us-east-1"
        in err
    )
    assert "3 of 3 tarball(s) failed the check" in err


def test_a_light_stemcell_is_fine_without_region_but_a_missing_file_is_bad_input(tmp_path, capsys):
    light = bf.write_stemcell(tmp_path, bf.HVM, "3147", light=True)
    assert cli.main(["bosh", "check", str(light.path)]) == 0
    assert cli.main(["bosh", "check", str(tmp_path / "nope.tgz")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_json_report_lists_problems_and_exits_1(tmp_path, capsys):
    rel = bf.write_release(tmp_path, "bosh", "233", corrupt_package="ruby")
    assert cli.main(["bosh", "check", "--json", str(rel.path)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert any("packages/ruby.tgz sha1" in p for p in report["tarballs"][0]["problems"])


def test_what_the_real_bosh_tools_accept_passes(tmp_path, capsys):
    # a job.MF with a TAB in a plain scalar (Go yaml and Psych read it), and a light stemcell whose
    # entries start with ./ (what `bosh repack-stemcell` writes)
    job_mf = b"name: nats\ntemplates: {nats_ctl.erb: bin/nats_ctl}\npackages: [nats]\ndescription: NATS\tmessage bus\n"
    job = bf.JobSpec("nats", ("nats",), {"nats_ctl.erb": "bin/nats_ctl"})
    rel = bf.write_release(tmp_path, "bosh", "233", job_overrides={"nats": bf.job_tgz(job, job_mf=job_mf)})
    light = bf.write_stemcell(tmp_path, bf.HVM, "3147", light=True, prefix="./")
    assert cli.main(["bosh", "check", str(rel.path), str(light.path), "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out
    assert f"ok: release bosh 233 ({rel.path})" in out
    assert f"ok: stemcell {bf.HVM} 3147 ({light.path}), AMIs in us-east-1" in out
