"""The universe of the deb resolver: every version of every package the sources offer, and the base.

``load_universe(client, sources, arch)`` reads every suite's verified Release and Packages indexes
(``bundler.apt.client``) in parallel, kept in sources order (binary-all too when the Release lists
``all``).  ``Universe.versions(name)`` are the archive versions of the target's architecture (plus
``all``), newest first by Debian version order (the first source wins for an identical version);
``Universe.providers(virtual)`` the packages that ``Provides`` it, from the indexes and the base.
``Cand`` is one version of one package with its relations parsed by the one relation parser
(``bundler.core.deb.deb822``); ``satisfies(cand, rel)`` compares versions with python-debian's
``Version`` (versioned ``Provides`` satisfy versioned dependencies).  The base (what is installed on
the target) is set with ``Universe.set_installed``: ``read_status`` reads a dpkg status file.

Imports ``bundler.apt``, ``bundler.core``, the spec's ``AptSource`` and python-debian.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from debian.debian_support import Version

from bundler.apt.client import AptClient
from bundler.apt.index import Index, build_index
from bundler.apt.release import Release
from bundler.core.deb.deb822 import Relation, parse_provides, parse_relations
from bundler.core.errors import InputError
from bundler.debs.policy import Policy
from bundler.spec import AptSource

_INSTALLED_STATES = {
    "installed",
    "half-installed",
    "unpacked",
    "half-configured",
    "triggers-awaiting",
    "triggers-pending",
}
_PRIORITY_RANK = {"required": 1, "important": 2, "standard": 3, "optional": 4, "extra": 5}


@dataclass(eq=False)
class Cand:
    """One version of one package, from an index (``release`` set) or from the base (``release`` None)."""

    name: str
    version: str
    fields: dict[str, str]
    release: Release | None = None
    files: list[tuple[Release, str]] = field(default_factory=list)  # (release, component) listing this version

    @cached_property
    def vkey(self) -> Version:
        return parse_version(self.version)

    @cached_property
    def depends(self) -> list[list[Relation]]:
        # apt's cache keeps Depends before Pre-Depends; both are critical
        return parse_relations(self.fields.get("Depends")) + parse_relations(self.fields.get("Pre-Depends"))

    @cached_property
    def pre_depends(self) -> list[list[Relation]]:
        return parse_relations(self.fields.get("Pre-Depends"))

    @cached_property
    def recommends(self) -> list[list[Relation]]:
        return parse_relations(self.fields.get("Recommends"))

    @cached_property
    def negative(self) -> list[Relation]:
        rels = parse_relations(self.fields.get("Conflicts")) + parse_relations(self.fields.get("Breaks"))
        return [alt for group in rels for alt in group]

    @cached_property
    def provides(self) -> dict[str, str | None]:
        return parse_provides(self.fields.get("Provides"))

    @cached_property
    def source(self) -> tuple[str, str]:
        """(source package, source version); a binNMU names its source version in parentheses."""
        src = self.fields.get("Source")
        if not src:
            return self.name, self.version
        name, _, ver = src.partition(" ")
        return name, ver.strip().strip("()") or self.version

    @property
    def essential(self) -> bool:
        return self.fields.get("Essential", "").lower() == "yes"

    @property
    def priority_rank(self) -> int:
        return _PRIORITY_RANK.get(self.fields.get("Priority", "optional"), 4)

    def __repr__(self) -> str:
        return f"{self.name}={self.version}"


@lru_cache(maxsize=65536)
def parse_version(text: str) -> Version:
    return Version(text)


def version_ok(have: str | Version | None, op: str | None, want: str | None) -> bool:
    if op is None:
        return True
    if have is None or want is None:
        return False
    c = (parse_version(have) if isinstance(have, str) else have)._compare(parse_version(want))
    return {"<<": c < 0, "<=": c <= 0, "=": c == 0, ">=": c >= 0, ">>": c > 0}[op]


def satisfies(cand: Cand, rel: Relation) -> bool:
    """Does ``cand`` satisfy ``rel`` directly or through its Provides?"""
    if cand.name == rel.name:
        return version_ok(cand.vkey, rel.op, rel.version)
    if rel.name in cand.provides:
        return rel.op is None or version_ok(cand.provides[rel.name], rel.op, rel.version)
    return False


@dataclass
class Universe:
    indexes: list[tuple[Release, Index]]
    arch: str
    installed: dict[str, Cand] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)
    _cands: dict[str, Cand | None] = field(default_factory=dict)
    _versions: dict[str, list[Cand]] = field(default_factory=dict)
    _providers: dict[str, list[str]] = field(default_factory=dict)
    _by_source: dict[str, list[str]] | None = None
    _inst_provides: dict[str, list[str]] | None = None

    def versions(self, name: str) -> list[Cand]:
        """Archive versions of ``name``, newest first (first source wins for an identical version)."""
        got = self._versions.get(name)
        if got is None:
            seen: dict[str, Cand] = {}
            for rel, idx in self.indexes:
                for st in idx.get(name):
                    if st.get("Architecture") not in (self.arch, "all"):
                        continue
                    comp = component_of(rel, idx)
                    if st.get("Version") in seen:
                        seen[st["Version"]].files.append((rel, comp))
                        continue
                    seen[st["Version"]] = Cand(name, st["Version"], st, rel, [(rel, comp)])
            got = sorted(seen.values(), key=lambda c: c.vkey, reverse=True)
            self._versions[name] = got
        return got

    def names(self) -> set[str]:
        """Every package name the sources offer or the base has (for "did you mean")."""
        found = set(self.installed)
        for _, idx in self.indexes:
            found.update(idx.names())
        return found

    def providers(self, virtual: str) -> list[str]:
        """Names of packages (archive or installed) providing ``virtual`` in some version."""
        got = self._providers.get(virtual)
        if got is None:
            names: dict[str, None] = {}
            for _, idx in self.indexes:
                names.update(dict.fromkeys(idx.providers(virtual)))
            names.update(dict.fromkeys(self.installed_provides().get(virtual, ())))
            got = list(names)
            self._providers[virtual] = got
        return got

    def candidate(self, name: str) -> Cand | None:
        """The policy's candidate version of ``name`` (``bundler.debs.policy``), given what is installed."""
        if name in self._cands:
            return self._cands[name]
        got = self.policy.candidate(self.versions(name), self.installed.get(name))
        self._cands[name] = got
        return got

    def set_policy(self, policy: Policy) -> None:
        self.policy = policy
        self._cands.clear()

    def set_installed(self, installed: dict[str, Cand]) -> None:
        self.installed = installed
        self._cands.clear()
        self._providers.clear()
        self._by_source = self._inst_provides = None

    def installed_provides(self) -> dict[str, list[str]]:
        got = self._inst_provides
        if got is None:
            got = {}
            for name, cand in self.installed.items():
                for virtual in cand.provides:
                    got.setdefault(virtual, []).append(name)
            self._inst_provides = got
        return got

    def installed_by_source(self) -> dict[str, list[str]]:
        got = self._by_source
        if got is None:
            got = {}
            for name, cand in self.installed.items():
                got.setdefault(cand.source[0], []).append(name)
            self._by_source = got
        return got

    def held(self, name: str) -> bool:
        """apt does not change a package whose dpkg selection is ``hold`` unless the user names it."""
        cur = self.installed.get(name)
        return cur is not None and cur.fields.get("Status", "").startswith("hold ")

    def known(self, name: str) -> bool:
        return bool(self.versions(name)) or name in self.installed

    def apt_version(self) -> str | None:
        """The version of apt installed on the target (its behaviour differs across versions)."""
        cur = self.installed.get("apt")
        return cur.version if cur is not None else None


def component_of(release: Release, idx: Index) -> str:
    """The component an index belongs to (``main`` of ``…/dists/SUITE/main/binary-amd64/Packages.xz``)."""
    prefix = release.dists_url + "/"
    rest = idx.url[len(prefix) :] if idx.url.startswith(prefix) else ""
    return rest.split("/", 1)[0]


def read_status(path: Path, arch: str) -> dict[str, Cand]:
    """Installed packages of a dpkg status file (``Status: … installed`` and the like)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"base {path}: cannot read the dpkg status file: {exc.strerror}") from None
    out: dict[str, Cand] = {}
    idx = build_index(text, str(path), "")
    stanzas = [st for name in idx.names() for st in idx.get(name)]
    if stanzas and not any("Status" in st for st in stanzas):
        raise InputError(
            f"base {path}: no stanza has a 'Status' field; this is not /var/lib/dpkg/status"
            " (a Packages index or 'dpkg -l' output?): copy the target's /var/lib/dpkg/status"
        )
    for name in idx.names():
        for st in idx.get(name):
            words = st.get("Status", "").split()
            if len(words) != 3 or words[2] not in _INSTALLED_STATES or "Version" not in st:
                continue
            if st.get("Architecture", arch) not in (arch, "all"):
                continue
            out[name] = Cand(name, st["Version"], st, None)
    if not out and text.strip() and "Package:" not in text:
        raise InputError(f"base {path}: not a dpkg status file (no 'Package:' stanzas)")
    return out


def load_universe(client: AptClient, sources: Sequence[AptSource], arch: str) -> Universe:
    """Every suite's verified Release and Packages indexes, fetched in parallel, kept in sources order."""

    def one_suite(source: AptSource, suite: str) -> list[tuple[Release, Index]]:
        rel = client.release(source, suite)
        out = []
        for comp in source.components:
            out.append((rel, client.packages(rel, comp, arch)))
            all_path = f"{comp}/binary-all/Packages"
            # apt reads binary-all only when Release lists "all" among its Architectures
            archs = rel.fields.get("Architectures")
            no_all = "Packages" in rel.fields.get("No-Support-for-Architecture-all", "")
            wants_all = archs is None or "all" in archs.split()
            if wants_all and not no_all and any(rel.entry(all_path + s) for s in ("", ".gz", ".xz")):
                out.append((rel, client.index(rel, all_path)))
        return out

    pairs = [(source, suite) for source in sources for suite in source.suites]
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(pairs)))) as pool:
        results = list(pool.map(lambda p: one_suite(*p), pairs))
    return Universe([x for r in results for x in r], arch)
