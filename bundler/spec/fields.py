"""Checks shared by every section of the spec: URLs, checksums, names listed twice.

Each takes the section's ``Fields`` (``bundler.core.yamlfile``), records a problem at the key's
``file:line: key.path`` when the value is wrong, and returns the value or ``None``.  Imports only
``bundler.core.yamlfile``.
"""

from __future__ import annotations

import re

from bundler.core.yamlfile import Fields, Problems

SHA256 = re.compile(r"^[0-9a-f]{64}$")
SHA1 = re.compile(r"^[0-9a-f]{40}$")
URL = re.compile(r"^(https?|file)://\S+$")


def url(f: Fields, key: str, default: object = ...) -> str | None:
    value = f.string(key) if default is ... else f.string(key, default)
    if isinstance(value, str) and not URL.match(value):
        f.problems.add(f.path(key), f"{value!r} is not an http://, https:// or file:// URL")
        return None
    return value


def checksum(f: Fields, key: str, pattern: re.Pattern[str], what: str) -> str | None:
    value = f.string(key, None)
    if value is not None:
        value = value.lower()
        if not pattern.match(value):
            f.problems.add(f.path(key), f"expected {what} as lowercase hex, got {value!r}")
            return None
    return value


def sha256(f: Fields, key: str = "sha256") -> str | None:
    return checksum(f, key, SHA256, "a sha256 (64 hex digits)")


def sha1(f: Fields, key: str = "sha1") -> str | None:
    return checksum(f, key, SHA1, "a sha1 (40 hex digits)")


def unique(problems: Problems, key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            problems.add(f"{key}[{i}]", f"{n!r} is listed twice")
        seen.add(n)
