"""The site file's paths: every one is relative to the site file, whatever the working directory."""

import yaml

from installer.cli import main
from installer.site.model import load_site
from tests.support.deployfixtures import make_fixture


def _args(tmp_path, fx, *extra):
    return ["--site", "site/site.yml", "--lock", str(fx.lock_path), "--payload", str(fx.payload),
            "--state-dir", str(tmp_path / "state"), "--only", "microbosh", *extra]  # fmt: skip


def test_paths_are_made_absolute_against_the_site_files_directory(tmp_path, monkeypatch):
    fx = make_fixture(tmp_path / "site")  # private_key: bosh.pem, vars_store: vars/vars.yml
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    site = load_site("../site/site.yml")
    assert site.key_pair.private_key.is_absolute() and site.key_pair.private_key.samefile(fx.key_path)
    assert site.vars_store.is_absolute() and site.vars_store.parent.parent.samefile(fx.root)


def test_render_from_another_directory_gives_bosh_init_an_absolute_key_path(tmp_path, monkeypatch, capsys):
    """Disagreement 2: with a relative --site and a relative key path, the rendered manifest kept the
    relative path, which bosh-init resolved against its own working directory."""
    fx = make_fixture(tmp_path / "site")
    monkeypatch.chdir(tmp_path)  # not the site file's directory
    assert main(["manifests", "render", *_args(tmp_path, fx, "--out", "out")]) == 0, capsys.readouterr()
    manifest = yaml.safe_load((tmp_path / "out" / "microbosh.yml").read_text())
    key = manifest["cloud_provider"]["ssh_tunnel"]["private_key"]
    assert key == str(tmp_path / "site" / "bosh.pem")
    assert (fx.root / "vars" / "vars.yml").is_file()  # the vars store beside the site file, not in the cwd
    assert not (tmp_path / "vars").exists()


def test_check_names_the_site_field_and_the_path_of_a_missing_key(tmp_path, monkeypatch, capsys):
    fx = make_fixture(tmp_path / "site")
    fx.key_path.unlink()
    monkeypatch.chdir(tmp_path)
    assert main(["manifests", "check", *_args(tmp_path, fx)]) == 2
    err = capsys.readouterr().err
    assert f"site/site.yml:14: key_pair.private_key: {tmp_path}/site/bosh.pem does not exist" in err
