"""The Ruby source tarball in the lock: pinned by URL + sha256, or found in a signed Debian Sources index."""

from __future__ import annotations

import hashlib
import lzma
import shutil

import pytest

from bundler.core.errors import BundleError, ResolutionError
from bundler.lockcontext import LockContext
from bundler.net.http import Http
from bundler.resolve import resolve_spec
from bundler.spec import load_spec
from tests.support.aptrepo import build_repo, sign_release, write_release
from tests.support.httpserver import LoopbackServer

TARBALL = b"ruby source tarball stand-in\n" * 1000
ORIG = "ruby3.1_3.1.2.orig.tar.xz"


def _spec(tmp_path, source_yaml: str, apt_yaml: str = ""):
    (tmp_path / "bundle.yml").write_text(
        "name: t\ntarget: {os: debian, release: '12', codename: bookworm}\n"
        + apt_yaml
        + "ruby:\n  version: 3.1.2\n  rubygems: 3.3.7\n  prefix: /opt/ruby\n  configure: [--disable-install-doc]\n"
        + "  source:\n"
        + "".join(f"    {line}\n" for line in source_yaml.strip().splitlines())
    )
    return load_spec(tmp_path / "bundle.yml")


def test_a_pinned_tarball_is_locked_with_its_size_from_the_server(tmp_path):
    (tmp_path / "ruby-2.1.6.tar.gz").write_bytes(TARBALL)
    sha = hashlib.sha256(TARBALL).hexdigest()
    with LoopbackServer(root=tmp_path) as srv:
        spec = _spec(tmp_path, f"url: {srv.url('/ruby-2.1.6.tar.gz')}\nsha256: {sha}")
        lock = resolve_spec(spec, LockContext(Http(retries=0), tmp_path / "cache"))
    [art] = lock.by_kind("ruby-source")
    assert (art.name, art.version, art.path, art.trust) == ("ruby", "3.1.2", "ruby/ruby-2.1.6.tar.gz", "pinned")
    assert (art.size, art.sha256) == (len(TARBALL), sha)
    assert art.meta == {"version": "3.1.2", "configure": ["--disable-install-doc"], "prefix": "/opt/ruby"}
    assert lock.sections["ruby"]["source"] == "ruby/ruby-2.1.6.tar.gz"


@pytest.fixture(scope="module")
def sources_repo(tmp_path_factory):
    """A signed repository whose main/source/Sources lists ruby3.1 with its orig tarball."""
    root = tmp_path_factory.mktemp("srcrepo")
    repo = build_repo(root, [{"Package": "hello", "Version": "1.0-1"}], gnupghome=tmp_path_factory.mktemp("gnupg"))
    pool = root / "pool" / "main" / "r" / "ruby3.1"
    pool.mkdir(parents=True)
    (pool / ORIG).write_bytes(TARBALL)
    sha = hashlib.sha256(TARBALL).hexdigest()
    stanza = (
        "Package: ruby3.1\nBinary: ruby3.1, libruby3.1\nVersion: 3.1.2-7\nDirectory: pool/main/r/ruby3.1\n"
        "Checksums-Sha256:\n"
        f" {'1' * 64} 2345 ruby3.1_3.1.2-7.dsc\n"
        f" {sha} {len(TARBALL)} {ORIG}\n"
        f" {'2' * 64} 99 ruby3.1_3.1.2-7.debian.tar.xz\n"
    )
    src = root / "dists" / repo.suite / "main" / "source"
    src.mkdir(parents=True)
    (src / "Sources.xz").write_bytes(lzma.compress(stanza.encode()))
    sign_release(write_release(root, repo.suite, "amd64"), repo.gnupghome)
    return repo


def _apt(srv, repo) -> str:
    return f"apt:\n  sources:\n    - url: {srv.base_url}\n      suites: [{repo.suite}]\n      keyring: {repo.keyring}\n"


def test_a_debian_orig_tarball_is_found_through_the_signed_sources_index(sources_repo, tmp_path):
    with LoopbackServer(root=sources_repo.root) as srv:
        spec = _spec(tmp_path, f"debian_source: ruby3.1\nfile: {ORIG}", _apt(srv, sources_repo))
        lock = resolve_spec(spec, LockContext(Http(retries=0), tmp_path / "cache"))
        [art] = lock.by_kind("ruby-source")
        assert art.url == srv.url(f"/pool/main/r/ruby3.1/{ORIG}")
        assert (art.path, art.trust, art.size) == (f"ruby/{ORIG}", "apt-release-signature", len(TARBALL))
        assert art.sha256 == hashlib.sha256(TARBALL).hexdigest()
        assert Http().get_bytes(art.url, sha256=art.sha256) == TARBALL


def test_a_file_the_sources_index_does_not_list_is_an_error_saying_where_we_looked(sources_repo, tmp_path):
    with LoopbackServer(root=sources_repo.root) as srv:
        spec = _spec(tmp_path, "debian_source: ruby3.1\nfile: ruby3.1_9.9.orig.tar.xz", _apt(srv, sources_repo))
        with pytest.raises(ResolutionError, match=r"no source package 'ruby3.1' with file 'ruby3.1_9.9.orig.tar.xz'"):
            resolve_spec(spec, LockContext(Http(retries=0), tmp_path / "cache"))


def test_a_tampered_sources_index_is_refused(sources_repo, tmp_path):
    with LoopbackServer(root=sources_repo.root) as srv:
        srv.faults["/dists/stable/main/source/Sources.xz"] = {"corrupt": True}
        spec = _spec(tmp_path, f"debian_source: ruby3.1\nfile: {ORIG}", _apt(srv, sources_repo))
        with pytest.raises(BundleError, match="sha256"):
            resolve_spec(spec, LockContext(Http(retries=0), tmp_path / "cache"))


@pytest.mark.network
def test_debian_ships_ruby_3_1_2_upstream_source_in_bookworm(tmp_path):
    """Debian's real archive (from this machine's apt configuration): the orig tarball of ruby3.1."""
    if shutil.which("gpgv") is None:
        pytest.skip("gpgv is not installed")
    spec = _spec(tmp_path, f"debian_source: ruby3.1\nfile: {ORIG}", "apt:\n  sources: system\n")
    try:
        lock = resolve_spec(spec, LockContext(Http(retries=1), tmp_path / "cache"))
    except BundleError as exc:
        if "ruby3.1" in str(exc) and "no source package" in str(exc):
            raise
        pytest.skip(f"Debian's archive is unreachable: {exc}")
    [art] = lock.by_kind("ruby-source")
    assert art.trust == "apt-release-signature" and art.path == f"ruby/{ORIG}"
    assert art.url.endswith(f"/pool/main/r/ruby3.1/{ORIG}") and art.size > 10_000_000
