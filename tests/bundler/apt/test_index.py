"""An index groups raw stanzas by Package, parses them on demand, and survives the cache round trip."""

from __future__ import annotations

from bundler.apt.index import build_index

TEXT = "Package: a\nVersion: 1\n\nPackage: a\nVersion: 2\nProvides: v (= 2)\n\n"


def test_stanzas_are_grouped_by_name_with_their_providers():
    idx = build_index(TEXT, "u", "0" * 64)
    assert [s["Version"] for s in idx.get("a")] == ["1", "2"] and idx.providers("v") == ["a"]


def test_the_stored_index_loads_the_same(tmp_path):
    idx = build_index(TEXT + "Package: b\nPriority: required\nProvides: v, w\n", "u", "0" * 64)
    idx.store(tmp_path / "blob", tmp_path / "meta")
    again = type(idx).load("u", "0" * 64, tmp_path / "blob", tmp_path / "meta")
    assert list(again.names()) == ["a", "b"] and again.raw("a") == idx.raw("a")
    assert again.providers("v") == ["a", "b"] and again.providers("w") == ["b"] and "b" in again
    assert again.names_with_line("Priority: required") == ["b"]
