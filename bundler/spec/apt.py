"""Where debs come from and which: ``apt`` (this machine's apt configuration, or a list of sources)
and ``debs`` (packages, the target's base, recommends); and the one parser of one-line sources.

``parse_one_line_source`` reads ``deb [signed-by=KEYRING trusted=yes] URL SUITE COMPONENT…`` (for
``bosh-bundle debs resolve --source``); ``split_source_options`` is its ``[k=v …]`` part, shared with
the reader of this machine's ``sources.list`` (``bundler.apt.system``).  Types beside their parsers.
Imports only ``bundler.core`` and the spec's field checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bundler.core.errors import InputError
from bundler.core.yamlfile import Fields, Problems
from bundler.spec import fields

BASES = ("none", "minimal")
_DEB_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?(=[A-Za-z0-9.+~:-]+|/[a-z0-9.+-]+)?$")


@dataclass(frozen=True)
class AptSource:
    url: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    keyring: str | None = None  # path of a keyring for gpgv; None only with trusted
    trusted: bool = False  # accept a missing or bad signature (recorded in the lock)
    frozen: bool = False  # a frozen mirror (a snapshot): an expired Valid-Until is accepted


@dataclass(frozen=True)
class AptSpec:
    system: bool  # sources come from this machine's apt configuration, read at lock time
    sources: tuple[AptSource, ...] = ()
    frozen: bool = False  # every source is a frozen mirror (for ``sources: system``)


@dataclass(frozen=True)
class DebSpec:
    packages: tuple[str, ...]  # "name" or "name=version"
    base: str = "minimal"  # none | minimal | path of a dpkg status file
    with_recommends: bool = False
    preferences: tuple[str, ...] = ()  # apt preferences files copied from the target (pins)
    where: tuple[str, ...] = ()  # per package, its place in the spec ("bundle.yml:14: debs.packages[2]")


def apt(top: Fields, problems: Problems) -> AptSpec | None:
    value = top.raw("apt", None)
    if value is None:
        return None
    f = Fields(problems, "apt", value)
    sources = f.raw("sources")
    frozen = f.boolean("frozen", False)
    f.done()
    if sources == "system":
        return AptSpec(system=True, frozen=frozen)
    if not isinstance(sources, list) or not sources:
        problems.add("apt.sources", "expected 'system' (this machine's apt configuration) or a list of sources")
        return None
    items = tuple(f.items("sources", apt_source))
    if frozen:
        items = tuple(replace(s, frozen=True) for s in items)
    return AptSpec(system=False, sources=items, frozen=frozen)


def apt_source(f: Fields) -> AptSource | None:
    url = fields.url(f, "url")
    suites = f.string_list("suites")
    components = f.string_list("components", ["main"])
    keyring = f.string("keyring", None)
    trusted = f.boolean("trusted", False)
    frozen = f.boolean("frozen", False)
    if keyring is None and not trusted:
        f.problems.add(f.path("keyring"), "is required unless 'trusted: true' (then signatures are not checked)")
    if not url or not suites:
        return None
    return AptSource(url.rstrip("/"), tuple(suites), tuple(components or ()), keyring, trusted, frozen)


def split_source_options(words: list[str]) -> tuple[dict[str, str], list[str]]:
    """``[k=v k2=v2] URL SUITE COMP…`` (the words after ``deb``) -> (options, the remaining words)."""
    words = list(words)
    options: dict[str, str] = {}
    if words and words[0].startswith("["):
        opts: list[str] = []
        while words:
            word = words.pop(0)
            opts.append(word)
            if word.endswith("]"):
                break
        for opt in " ".join(opts).strip("[] ").split():
            key, _, value = opt.partition("=")
            options[key.lower()] = value
    return options, words


def parse_one_line_source(line: str) -> AptSource:
    """Parse ``deb [signed-by=KEYRING trusted=yes] URL SUITE COMPONENT…`` (sources.list style)."""
    words = line.split()
    if not words or words[0] != "deb":
        raise InputError(f"apt source {line!r}: must start with 'deb'")
    options, words = split_source_options(words[1:])
    if len(words) < 2:
        raise InputError(f"apt source {line!r}: expected 'deb [signed-by=KEYRING] URL SUITE COMPONENT…'")
    url, suite, components = words[0], words[1], words[2:] or ["main"]
    if not fields.URL.match(url):
        raise InputError(f"apt source {line!r}: {url!r} is not an http://, https:// or file:// URL")
    trusted = options.get("trusted") == "yes"
    keyring = options.get("signed-by")
    if keyring is None and not trusted:
        raise InputError(f"apt source {line!r}: give [signed-by=KEYRING] or [trusted=yes]")
    return AptSource(url.rstrip("/"), (suite,), tuple(components), keyring, trusted)


def debs(f: Fields | None) -> DebSpec | None:
    if f is None:
        return None
    packages = f.string_list("packages") or []
    for i, p in enumerate(packages):
        if not _DEB_NAME.match(p):
            f.problems.add(f"{f.path('packages')}[{i}]", f"{p!r} is not a package name or name=version (or name/suite)")
    base = f.string("base", "minimal")
    with_recommends = f.boolean("with_recommends", False)
    preferences = f.string_list("preferences", []) or []
    f.done()
    if not packages:
        f.problems.add(f.path("packages"), "lists no packages")
    where = tuple(f.problems.doc.where(f"{f.path('packages')}[{i}]") for i in range(len(packages)))
    return DebSpec(tuple(packages), base, with_recommends, tuple(preferences), where)
