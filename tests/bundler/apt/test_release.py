"""A Release text is read by the one deb822 reader: its single-line fields and its SHA256 list."""

from __future__ import annotations

from bundler.apt.release import IndexFile, parse_release

RELEASE = (
    "Origin: Debian\nSuite: stable\nArchitectures: amd64 arm64\nAcquire-By-Hash: yes\nMD5Sum:\n"
    " 0123 10 main/binary-amd64/Packages\nSHA256:\n"
    f" {'a' * 64}     1234 main/binary-amd64/Packages.xz\n"
    f" {'b' * 64} 99 main/source/Sources.gz\n"
    " not-a-hash 5 main/evil\n"
)


def test_fields_and_sha256_entries():
    fields, entries = parse_release(RELEASE)
    assert fields["Suite"] == "stable" and fields["Architectures"] == "amd64 arm64" and fields["SHA256"] == ""
    assert entries == {
        "main/binary-amd64/Packages.xz": IndexFile("main/binary-amd64/Packages.xz", "a" * 64, 1234),
        "main/source/Sources.gz": IndexFile("main/source/Sources.gz", "b" * 64, 99),
    }


def test_a_filename_outside_the_repository_is_refused_even_from_a_signed_index():
    import pytest

    from bundler.apt.release import TRUST_SIGNED, Release
    from bundler.core.errors import IntegrityError
    from bundler.spec import AptSource

    rel = Release(AptSource(url="http://127.0.0.1:9/debian", suites=("bookworm",), components=("main",)),
                  "bookworm", {}, {}, TRUST_SIGNED)  # fmt: skip
    assert (
        rel.url_of("pool/main/z/zlib/zlib1g_1_amd64.deb")
        == "http://127.0.0.1:9/debian/pool/main/z/zlib/zlib1g_1_amd64.deb"
    )
    for bad in ("../../etc/passwd", "/etc/passwd", "pool/../../x.deb", "pool//x.deb", "pool\\..\\x.deb"):
        with pytest.raises(IntegrityError, match="not inside the repository"):
            rel.url_of(bad)
