"""The one deb822 reader and relation parser read stanzas and relations as apt and dpkg do."""

from bundler.core.deb.deb822 import (
    field_value,
    parse_provides,
    parse_relations,
    parse_stanza,
    parse_stanzas,
    relation_names,
)


def test_relations_and_stanzas_parse_like_apt():
    rels = parse_relations("libc6 (>= 2.34), mawk | awk, python3:any (<< 3.12), foo (< 1)")
    assert [[str(r) for r in g] for g in rels] == [
        ["libc6 (>= 2.34)"],
        ["mawk", "awk"],
        ["python3:any (<< 3.12)"],
        ["foo (<= 1)"],
    ]
    st = parse_stanza("Package: ruby3.1\nChecksums-Sha256:\n aa 1 a.dsc\n bb 2 b.tar.xz\nVersion: 3.1.2-7")
    assert st["Checksums-Sha256"].splitlines()[1:] == ["aa 1 a.dsc", "bb 2 b.tar.xz"] and st["Version"] == "3.1.2-7"


def test_relation_names_drop_versions_alternatives_and_arch_qualifiers():
    assert relation_names("a (>= 1.0), b:any | c, d [amd64]") == {"a", "b", "c", "d"}


def test_versioned_provides_keep_their_version():
    assert parse_provides("libbar-abi (= 3), awk, x (>= 1)") == {"libbar-abi": "3", "awk": None, "x": None}
    assert parse_provides(None) == {}


def test_blank_lines_of_spaces_separate_stanzas_and_comment_only_stanzas_are_none():
    text = "# header\n\nTypes: deb\n# inside\nURIs: a\n \t\nTypes: deb-src\r\nURIs: b\r\n"
    assert parse_stanzas(text) == [{"Types": "deb", "URIs": "a"}, {"Types": "deb-src", "URIs": "b"}]


def test_a_single_field_is_read_without_parsing_the_stanza():
    stanza = "Package: a\nProvides: v (= 2)\nDescription: x\n Provides: not-a-field"
    assert field_value(stanza, "Package") == "a" and field_value(stanza, "Provides") == "v (= 2)"
    assert field_value(stanza, "Depends") is None
