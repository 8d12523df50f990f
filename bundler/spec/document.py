"""The whole ``bundle.yml``: the ``Spec`` and ``load_spec``, which reads it section by section.

Every problem in the file is collected (``bundler.core.yamlfile.Problems``) and reported at once,
each as ``file:line: key.path: what is wrong``; then the sections are checked against each other
(``debs`` needs ``apt``; releases, stemcells and binaries are named once).  Each section's type and
parser live in their own module of this package; this one holds the top level (``name``,
``bosh_io``, ``mirrors``) and ``with_mirrors`` for ``--mirror``.  Imports only ``bundler.core`` and
the spec's modules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from bundler.core.yamlfile import Fields, Located, Problems, load_yaml_with_lines
from bundler.spec import apt as apt_section
from bundler.spec import fields, files, host
from bundler.spec import ruby as ruby_section
from bundler.spec.apt import BASES, AptSpec, DebSpec
from bundler.spec.director import DirectorSpec, director
from bundler.spec.files import BinarySpec, ReleaseSpec, StemcellSpec
from bundler.spec.host import RuntimeSpec, Target
from bundler.spec.ruby import GemSpec, RubySpec


@dataclass(frozen=True)
class Spec:
    path: Path
    name: str
    target: Target
    runtime: RuntimeSpec | None = None
    apt: AptSpec | None = None
    debs: DebSpec | None = None
    ruby: RubySpec | None = None
    gems: GemSpec | None = None
    releases: tuple[ReleaseSpec, ...] = ()
    stemcells: tuple[StemcellSpec, ...] = ()
    binaries: tuple[BinarySpec, ...] = ()
    bosh_io_url: str = "https://bosh.io"
    mirrors: tuple[tuple[str, str], ...] = ()  # (upstream prefix, mirror prefix), longest first
    director: DirectorSpec | None = None  # which toolchain deploys the director (bundler.spec.director)


def with_mirrors(spec: Spec, mirrors: list[tuple[str, str]] | None) -> Spec:
    """The spec with extra mirrors (from ``--mirror``) taking precedence over its own."""
    if not mirrors:
        return spec
    merged = dict(spec.mirrors)
    merged.update(mirrors)
    return replace(spec, mirrors=tuple(sorted(merged.items(), key=lambda m: (-len(m[0]), m[0]))))


def load_spec(path: Path | str) -> Spec:
    """Read and validate a spec file; raises ``InputError`` listing every problem."""
    path = Path(path)
    doc = load_yaml_with_lines(path)
    return parse_spec(doc)


def parse_spec(doc: Located) -> Spec:
    problems = Problems(doc)
    top = Fields(problems, "", doc.data)
    name = top.string("name", "bundle")
    target = host.target(top.sub("target", required=True))
    runtime = host.runtime(top.sub("runtime"))
    apt = apt_section.apt(top, problems)
    debs = apt_section.debs(top.sub("debs"))
    ruby = ruby_section.ruby(top.sub("ruby"))
    gems = ruby_section.gems(top.sub("gems"), ruby)
    releases = top.items("releases", files.release)
    stemcells = top.items("stemcells", files.stemcell)
    binaries = top.items("binaries", files.binary)
    bosh_io_url = _bosh_io_url(top.sub("bosh_io"))
    mirrors = _mirrors(top, problems)
    director_ = director(top.sub("director"), doc.path.parent)
    top.done()

    if debs is not None and apt is None:
        problems.add("debs", "needs an 'apt' section saying where the packages come from")
    if debs is not None and debs.base not in BASES and not Path(debs.base).is_absolute():
        debs = replace(debs, base=str((doc.path.parent / debs.base).resolve()))
    fields.unique(problems, "releases", [r.name for r in releases])
    fields.unique(problems, "binaries", [b.name for b in binaries])
    fields.unique(problems, "stemcells", [f"{s.name} {s.variant}" for s in stemcells])
    if director_ and director_.toolchain == "create-env" and director_.cli not in [b.name for b in binaries]:
        problems.add("director.cli", f"create-env needs the bosh CLI {director_.cli!r} in 'binaries'")
    problems.raise_if_any()
    return Spec(
        path=doc.path,
        name=name,
        target=target,
        runtime=runtime,
        apt=apt,
        debs=debs,
        ruby=ruby,
        gems=gems,
        releases=tuple(releases),
        stemcells=tuple(stemcells),
        binaries=tuple(binaries),
        bosh_io_url=bosh_io_url.rstrip("/"),
        mirrors=mirrors,
        director=director_,
    )


def _bosh_io_url(f: Fields | None) -> str:
    if f is None:
        return "https://bosh.io"
    url = fields.url(f, "url") or "https://bosh.io"
    f.done()
    return url


def _mirrors(top: Fields, problems: Problems) -> tuple[tuple[str, str], ...]:
    f = top.sub("mirrors")
    if f is None:
        return ()
    out = []
    for upstream, mirror in f.value.items():
        f.seen.add(upstream)
        if not isinstance(upstream, str) or not fields.URL.match(upstream):
            problems.add(f.path(str(upstream)), "a mirror key must be an upstream URL prefix")
        elif not isinstance(mirror, str) or not fields.URL.match(mirror):
            problems.add(f.path(upstream), "a mirror must be a URL prefix")
        else:
            out.append((upstream, mirror))
    return tuple(sorted(out, key=lambda m: (-len(m[0]), m[0])))
