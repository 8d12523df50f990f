"""The runtime resolver: distro mode only records itself; standalone mode pins Python and wheels."""

import hashlib

import pytest

from bundler.core.errors import InputError, IntegrityError
from bundler.lockcontext import LockContext
from bundler.net.cache import artifact_path
from bundler.net.http import Http
from bundler.runtime import python_artifact, resolve, wheel_artifacts
from bundler.spec import FileRef, RuntimeSpec, Spec, Target
from tests.support.httpserver import LoopbackServer
from tests.support.wheels import make_wheel, pip_env, simple_index_routes

TARGET = Target("debian", "12", "bookworm", "amd64")


def test_distro_mode_adds_wheels_of_what_the_distro_has_too_old_for_its_python(tmp_path, monkeypatch):
    # a stand-in "py7zr" on a loopback index: Debian 12's own python3-py7zr is too old for us
    wheel = make_wheel(tmp_path / "w", "py7zr", "9.9")
    boto = make_wheel(tmp_path / "w", "boto3", "1.0")
    with LoopbackServer(routes=simple_index_routes([wheel, boto])) as srv:
        for key, value in pip_env(srv.url("/simple/")).items():
            monkeypatch.setenv(key, value)
        spec = Spec(tmp_path / "b.yml", "b", TARGET, runtime=RuntimeSpec("distro"))
        part = resolve(spec, LockContext(Http(), tmp_path / "cache"))
    assert [a.name for a in part.artifacts] == ["boto3", "py7zr"]
    wheels = [f"runtime/wheels/{w.name}" for w in (boto, wheel)]
    assert part.section == {"mode": "distro", "python_version": "3.11", "wheels": wheels}


def test_distro_mode_on_a_release_whose_python3_is_too_old_is_refused_naming_standalone(tmp_path):
    spec = Spec(tmp_path / "b.yml", "b", Target("debian", "11", "bullseye", "amd64"), runtime=RuntimeSpec("distro"))
    with pytest.raises(InputError) as err:
        resolve(spec, LockContext(Http(), tmp_path / "cache"))
    assert str(err.value) == (
        "b.yml: runtime.mode: distro: debian 11's python3 is 3.9, older than the installer needs (3.10):"
        " use 'mode: standalone' with a python-build-standalone tarball (runtime.python)"
    )


def test_unpinned_python_tarball_is_trusted_on_first_download_with_a_warning(tmp_path):
    body = b"not really python" * 1000
    name = "cpython-3.12.7+20241016-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
    with LoopbackServer(routes={f"/d/{name}": body}) as srv:
        ctx = LockContext(Http(), tmp_path)
        art = python_artifact(FileRef(srv.url(f"/d/{name}")), "3.12", ctx)
    sha = hashlib.sha256(body).hexdigest()
    assert (art.kind, art.name, art.version, art.trust) == ("runtime", "python", "3.12.7+20241016", "first-download")
    assert art.sha256 == sha and art.size == len(body) and art.path == f"runtime/{name}"
    assert artifact_path(tmp_path, sha).read_bytes() == body
    assert any("first download" in w for w in ctx.warnings)


def test_pinned_python_tarball_with_the_wrong_bytes_is_refused(tmp_path):
    with LoopbackServer(routes={"/python.tar.gz": b"tampered"}) as srv:
        ctx = LockContext(Http(), tmp_path)
        with pytest.raises(IntegrityError, match="expected"):
            python_artifact(FileRef(srv.url("/python.tar.gz"), sha256="0" * 64), "3.12", ctx)


def test_wheels_come_from_pip_with_the_index_checksums(tmp_path, monkeypatch):
    wheels = [
        make_wheel(tmp_path / "w", "tinyapp", "1.0", requires=("tinylib>=2",)),
        make_wheel(tmp_path / "w", "tinylib", "2.1"),
    ]
    with LoopbackServer(routes=simple_index_routes(wheels)) as srv:
        for key, value in pip_env(srv.url("/simple/")).items():
            monkeypatch.setenv(key, value)
        ctx = LockContext(Http(), tmp_path / "cache")
        arts = wheel_artifacts(("tinyapp",), "3.11", ctx)
    assert [(a.kind, a.name, a.version) for a in arts] == [("wheel", "tinyapp", "1.0"), ("wheel", "tinylib", "2.1")]
    for a, w in zip(arts, wheels, strict=True):
        assert a.sha256 == hashlib.sha256(w.read_bytes()).hexdigest()
        assert a.path == f"runtime/wheels/{w.name}" and a.url.endswith(f"/files/{w.name}")
        assert artifact_path(tmp_path / "cache", a.sha256).read_bytes() == w.read_bytes()
