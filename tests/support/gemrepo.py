"""A local replica of a gem server: real ``.gem`` files built with ``gem build``, served over a
compact index on 127.0.0.1.

``FakeGem`` describes one gem release (name, version, runtime and development dependencies,
``required_ruby_version``, ``required_rubygems_version``, platform).  ``build_repo`` writes a
gemspec per release, runs the real ``gem build`` on it (Debian's ruby package; two at a time, the
machines are small), then reads every built gem's specification back with RubyGems itself (one
``ruby`` process) and writes the repository as rubygems.org lays it out:

    versions             ``created_at: …`` / ``---`` / ``NAME V1,V2-PLATFORM,… MD5_OF_INFO``
    info/NAME            ``---`` / ``VERSION[-PLATFORM] DEP:REQ&REQ,…|checksum:SHA256[,ruby:R][,rubygems:R]``
    gems/NAME-VERSION[-PLATFORM].gem

as the ``compact_index`` gem formats them: runtime dependencies only, each one's requirement list
sorted and joined with ``&``; ``ruby:``/``rubygems:`` only when not ``>= 0``, their constraints
joined with ``, `` as ``Gem::Requirement#to_s`` prints them.

Building is slow (0.17 s a gem), so ``cached_repo`` builds a graph once into a directory named by
the hash of its description (tests pass the session's base temporary directory).  Two graphs are
defined here: ``RESOLUTION_GRAPH`` (the resolver's cases) and ``BOSH_CLI_REPLICA`` (the bosh_cli
1.3147.0 closure of the guide, tiny gems with the real names, versions, dependencies and Ruby
requirements, plus newer releases the target's Ruby cannot run).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.support.httpserver import LoopbackServer

SOURCE_DATE_EPOCH = "1420070400"  # 2015-01-01: the same graph always gives the same bytes
CREATED_AT = "2015-01-01T00:00:00Z"


@dataclass(frozen=True)
class FakeGem:
    name: str
    version: str
    deps: tuple[tuple[str, str], ...] = ()  # runtime: (name, "~> 1.0" or ">= 1, < 2")
    ruby: str | None = None  # required_ruby_version, e.g. ">= 2.2, < 2.7.dev"
    rubygems: str | None = None  # required_rubygems_version
    platform: str = "ruby"
    dev_deps: tuple[tuple[str, str], ...] = ()

    @property
    def full_name(self) -> str:
        return f"{self.name}-{self.version}" + ("" if self.platform == "ruby" else f"-{self.platform}")

    @property
    def filename(self) -> str:
        return f"{self.full_name}.gem"


def _ruby_list(requirement: str) -> str:
    return "[" + ", ".join(json.dumps(r.strip()) for r in requirement.split(",")) + "]"


def gemspec_text(gem: FakeGem) -> str:
    lines = [
        "Gem::Specification.new do |s|",
        f"  s.name = {json.dumps(gem.name)}",
        f"  s.version = {json.dumps(gem.version)}",
        f"  s.summary = {json.dumps('replica of ' + gem.name + ' for bosh-offline tests')}",
        '  s.authors = ["bosh-offline tests"]',
        '  s.license = "MIT"',
        '  s.homepage = "http://127.0.0.1/"',
        f'  s.files = ["lib/{gem.name}.rb"]',
    ]
    if gem.platform != "ruby":
        lines.append(f"  s.platform = {json.dumps(gem.platform)}")
    if gem.ruby:
        lines.append(f"  s.required_ruby_version = {_ruby_list(gem.ruby)}")
    if gem.rubygems:
        lines.append(f"  s.required_rubygems_version = {_ruby_list(gem.rubygems)}")
    for name, req in gem.deps:
        lines.append(f"  s.add_runtime_dependency {json.dumps(name)}, *{_ruby_list(req)}")
    for name, req in gem.dev_deps:
        lines.append(f"  s.add_development_dependency {json.dumps(name)}, *{_ruby_list(req)}")
    lines.append("end")
    return "\n".join(lines) + "\n"


def _build_one(gem: FakeGem, work: Path, out: Path) -> Path:
    src = work / gem.full_name
    (src / "lib").mkdir(parents=True)
    (src / "lib" / f"{gem.name}.rb").write_text(f"# {gem.full_name}\nmodule BoshOfflineReplica; end\n")
    (src / f"{gem.name}.gemspec").write_text(gemspec_text(gem))
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    done = subprocess.run(
        ["gem", "build", f"{gem.name}.gemspec"], cwd=src, env=env, capture_output=True, text=True, timeout=120
    )
    built = src / gem.filename
    if done.returncode != 0 or not built.is_file():
        raise RuntimeError(f"gem build {gem.full_name} failed:\n{done.stdout}\n{done.stderr}")
    target = out / gem.filename
    shutil.move(built, target)
    return target


def build_gems(gems: Iterable[FakeGem], out: Path, jobs: int = 2) -> list[Path]:
    """Build every gem with ``gem build`` into ``out``; returns the .gem paths."""
    gems = list(gems)
    names = [g.full_name for g in gems]
    if len(set(names)) != len(names):
        raise ValueError("a gem release is listed twice")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gembuild-") as work, ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(lambda g: _build_one(g, Path(work), out), gems))


_READ_SPECS = r"""
require "json"
require "rubygems/package"
out = ARGV.map do |path|
  s = Gem::Package.new(path).spec
  req = ->(r) { r.none? ? nil : r.to_s }
  { "file" => File.basename(path), "name" => s.name, "version" => s.version.to_s,
    "platform" => s.platform.to_s, "ruby" => req[s.required_ruby_version],
    "rubygems" => req[s.required_rubygems_version],
    "deps" => s.runtime_dependencies.map { |d| [d.name, d.requirement.to_s] } }
end
puts JSON.generate(out)
"""


def read_specs(paths: list[Path]) -> list[dict]:
    """Each gem's specification as RubyGems itself reads it (one ruby process for all)."""
    if not paths:
        return []
    done = subprocess.run(
        ["ruby", "-e", _READ_SPECS, *map(str, paths)], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout)


def info_line(spec: dict, sha256: str) -> str:
    """One ``/info/NAME`` line, formatted as the compact_index gem does for rubygems.org."""
    number = spec["version"] + ("" if spec["platform"] == "ruby" else "-" + spec["platform"])
    deps = ",".join(f"{name}:{'&'.join(sorted(req.split(', ')))}" for name, req in sorted(spec["deps"]))
    line = f"{number} {deps}|checksum:{sha256}"
    if spec["ruby"]:
        line += f",ruby:{spec['ruby']}"
    if spec["rubygems"]:
        line += f",rubygems:{spec['rubygems']}"
    return line


def write_compact_index(gem_files: list[Path], root: Path) -> None:
    """Lay out ``root`` as a compact-index gem server for the given .gem files."""
    (root / "gems").mkdir(parents=True, exist_ok=True)
    (root / "info").mkdir(exist_ok=True)
    by_name: dict[str, list[tuple[dict, str]]] = {}
    for spec, path in zip(read_specs(gem_files), gem_files, strict=True):
        if path.parent != root / "gems":
            shutil.copyfile(path, root / "gems" / path.name)
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        by_name.setdefault(spec["name"], []).append((spec, sha256))
    versions = [f"created_at: {CREATED_AT}", "---"]
    for name in sorted(by_name):
        entries = by_name[name]  # in the order given: the order of "pushes"
        info = "---\n" + "".join(info_line(spec, sha) + "\n" for spec, sha in entries)
        (root / "info" / name).write_text(info)
        numbers = ",".join(info_line(spec, "x").split(" ", 1)[0] for spec, _ in entries)
        versions.append(f"{name} {numbers} {hashlib.md5(info.encode()).hexdigest()}")
    (root / "versions").write_text("\n".join(versions) + "\n")


def build_repo(gems: Iterable[FakeGem], root: Path) -> Path:
    gems = list(gems)
    paths = build_gems(gems, root / "gems")
    write_compact_index(paths, root)
    return root


def graph_key(gems: Iterable[FakeGem]) -> str:
    text = json.dumps([gemspec_text(g) for g in gems])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_repo(gems: Iterable[FakeGem], cache_root: Path) -> Path:
    """The repository for this graph under ``cache_root``, built once (atomically) and reused."""
    gems = list(gems)
    final = Path(cache_root) / f"gemrepo-{graph_key(gems)}"
    if (final / "versions").is_file():
        return final
    tmp = Path(tempfile.mkdtemp(prefix="gemrepo-build-", dir=cache_root))
    build_repo(gems, tmp)
    try:
        tmp.rename(final)
    except OSError:  # built meanwhile by someone else
        shutil.rmtree(tmp, ignore_errors=True)
    return final


@contextlib.contextmanager
def serve_gem_replica(root: Path) -> Iterator[LoopbackServer]:
    """Serve a repository made by ``build_repo`` / ``build_bosh_cli_replica`` on 127.0.0.1."""
    with LoopbackServer(root=root) as srv:
        yield srv


def build_bosh_cli_replica(directory: Path) -> Path:
    """The bosh_cli replica repository under ``directory`` (built once, then reused); its root."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return cached_repo(BOSH_CLI_REPLICA, directory)


def _g(name: str, version: str, *deps: str, ruby: str | None = None, **kw: object) -> FakeGem:
    parsed = tuple((d.split(" ", 1)[0], d.split(" ", 1)[1]) for d in deps)
    return FakeGem(name, version, parsed, ruby, **kw)  # type: ignore[arg-type]


# The resolver's cases.  Target in the tests: Ruby 2.1.6, RubyGems 2.2.3, platforms ruby + x86_64-linux.
RESOLUTION_GRAPH: tuple[FakeGem, ...] = (
    # newest releases need a newer Ruby / RubyGems than the target: older ones must be chosen
    _g("oldruby", "1.0.0", ruby=">= 1.9.3"),
    _g("oldruby", "1.5.0", ruby=">= 2.0, < 2.7.dev"),
    _g("oldruby", "2.0.0", ruby=">= 2.2"),
    _g("oldruby", "3.0.0", ruby=">= 2.7"),
    _g("oldgems", "1.0.0"),
    _g("oldgems", "2.0.0", rubygems=">= 2.5.0"),
    _g("newonly", "1.0.0", ruby=">= 3.3"),
    # a diamond: top -> left, right -> base (left allows < 3, right ~> 1.2)
    _g("top", "1.0.0", "left ~> 1.0", "right ~> 1.0", dev_deps=(("rspec-replica", "~> 3.0"),)),
    _g("left", "1.0.0", "base >= 1.0, < 3"),
    _g("right", "1.0.0", "base ~> 1.2"),
    _g("base", "1.0.0"),
    _g("base", "1.2.0"),
    _g("base", "1.5.0"),
    _g("base", "2.0.0"),
    _g("base", "2.5.0", ruby=">= 3.2"),
    # a conflict that needs backtracking: the newest y pins w 2.0, which z cannot take
    _g("bt", "1.0.0", "y >= 1.0", "z >= 1.0"),
    _g("y", "1.0.0", "w = 1.0.0"),
    _g("y", "2.0.0", "w = 2.0.0"),
    _g("z", "1.0.0", "w ~> 1.0"),
    _g("z", "2.0.0", "w ~> 1.0"),
    _g("w", "1.0.0"),
    _g("w", "2.0.0"),
    # unsatisfiable: broken wants p ~> 1.0, its other dependency q wants p >= 2.0
    _g("broken", "1.0.0", "p ~> 1.0", "q ~> 1.0"),
    _g("q", "1.0.0", "p >= 2.0"),
    _g("p", "1.0.0"),
    _g("p", "2.0.0"),
    # prereleases only when asked for
    _g("pre", "1.0.0"),
    _g("pre", "2.0.0.rc1"),
    # platforms: a precompiled x86_64-linux build beside the ruby one, and one for java
    _g("natv", "1.0.0"),
    _g("natv", "1.0.0", platform="x86_64-linux"),
    _g("natv", "1.0.0", platform="java"),
    # a dependency on a gem the server does not have
    _g("dangling", "1.0.0", "nosuchgem >= 0"),
)

_BOSH = "1.3147.0"
_NEWER = ">= 3.2"  # "needs a newer Ruby" than every target we test with (2.1.6 for the guide, 3.1.2 here)

# bosh_cli 1.3147.0 and its closure (see shared/DESIGN.md), with releases around the chosen ones.
BOSH_CLI_REPLICA: tuple[FakeGem, ...] = (
    _g(
        "bosh_cli",
        _BOSH,
        f"bosh_common ~> {_BOSH}",
        f"bosh-template ~> {_BOSH}",
        f"blobstore_client ~> {_BOSH}",
        "cf-uaa-lib ~> 3.2.1",
        "json_pure ~> 1.7",
        "highline ~> 1.6.2",
        "progressbar ~> 0.9.0",
        "httpclient = 2.4.0",
        "terminal-table ~> 1.4.3",
        "net-ssh = 2.9.2",
        "net-ssh-gateway ~> 1.2.0",
        "net-scp ~> 1.1.0",
        "netaddr ~> 1.5.0",
        "minitar ~> 0.5.4",
        "sshkey ~> 1.7.0",
        ruby=">= 1.9.3",
    ),
    _g("bosh_cli", "1.3262.26.0", "bosh_common ~> 1.3262.26.0", "json_pure ~> 1.7", ruby=">= 1.9.3"),
    _g("bosh_common", _BOSH, "semi_semantic ~> 1.1.0", "logging ~> 1.8.2"),
    _g("bosh-template", _BOSH, "semi_semantic ~> 1.1.0"),
    _g(
        "blobstore_client",
        _BOSH,
        "aws-sdk = 1.60.2",
        f"bosh_common ~> {_BOSH}",
        "httpclient = 2.4.0",
        "multi_json ~> 1.1",
    ),
    _g("cf-uaa-lib", "3.2.1", "multi_json ~> 1.7"),
    _g("cf-uaa-lib", "3.2.4", "multi_json ~> 1.7"),
    _g("cf-uaa-lib", "3.2.5", "multi_json ~> 1.7", ruby=_NEWER),
    _g("cf-uaa-lib", "3.14.0", "multi_json ~> 1.15", ruby=">= 2.5"),
    _g("json_pure", "1.7.7"),
    _g("json_pure", "1.8.3"),
    _g("json_pure", "1.8.6", ruby=_NEWER),
    _g("json_pure", "2.1.0", ruby=">= 2.0"),
    _g("highline", "1.6.21"),
    _g("highline", "1.7.8"),
    _g("progressbar", "0.9.2"),
    _g("progressbar", "1.0.0"),
    _g("httpclient", "2.4.0"),
    _g("httpclient", "2.8.3"),
    _g("terminal-table", "1.4.5"),
    _g("terminal-table", "1.8.0", ruby=">= 2.0"),
    _g("net-ssh", "2.9.2", ruby=">= 2.0"),
    _g("net-ssh", "2.9.4", ruby=">= 2.0"),
    _g("net-ssh", "3.0.2", ruby=">= 2.0"),
    _g("net-ssh-gateway", "1.2.0", "net-ssh >= 2.6.5"),
    _g("net-ssh-gateway", "1.3.0", "net-ssh >= 2.6.5"),
    _g("net-scp", "1.1.2", "net-ssh >= 2.6.5"),
    _g("net-scp", "1.2.1", "net-ssh >= 2.6.5"),
    _g("netaddr", "1.5.0"),
    _g("netaddr", "1.5.1", ruby=_NEWER),
    _g("minitar", "0.5.4"),
    _g("minitar", "0.6.1"),
    _g("sshkey", "1.7.0"),
    _g("sshkey", "1.9.0"),
    _g("semi_semantic", "1.1.0"),
    _g("semi_semantic", "1.2.0"),
    _g("logging", "1.8.2", "little-plugger >= 1.1.3", "multi_json >= 1.8.4"),
    _g("logging", "2.3.0", "little-plugger ~> 1.1", "multi_json ~> 1.14", ruby=_NEWER),
    _g("little-plugger", "1.1.3"),
    _g("little-plugger", "1.1.4", ruby=_NEWER),
    _g("multi_json", "1.8.4"),
    _g("multi_json", "1.11.2"),
    _g("multi_json", "1.15.0", ruby=_NEWER),
    _g("aws-sdk", "1.60.2", "aws-sdk-v1 = 1.60.2"),
    _g("aws-sdk", "1.67.0", "aws-sdk-v1 = 1.67.0"),
    _g("aws-sdk-v1", "1.60.2", "json ~> 1.4", "nokogiri >= 1.4.4"),
    _g("aws-sdk-v1", "1.67.0", "json ~> 1.4", "nokogiri ~> 1"),
    _g("json", "1.8.3"),
    _g("json", "1.8.6", ruby=_NEWER),
    _g("json", "2.7.0", ruby=">= 2.3"),
    _g("nokogiri", "1.6.6.2", "mini_portile ~> 0.6.0", ruby=">= 1.9.2"),
    _g("nokogiri", "1.18.0", "mini_portile2 ~> 2.8.2", ruby=">= 3.2, < 3.5.dev"),
    _g("nokogiri", "1.18.0", ruby=">= 3.2, < 3.5.dev", platform="x86_64-linux"),
    _g("mini_portile", "0.6.0"),
    _g("mini_portile", "0.6.2"),
    _g("mini_portile2", "2.8.5", ruby=">= 2.3.0"),
)

# What a correct resolver locks for bosh_cli ~> 1.3147.0 (Ruby 2.1.6 or 3.1.2, platforms ruby+x86_64-linux).
BOSH_CLI_CLOSURE: dict[str, str] = {
    "aws-sdk": "1.60.2",
    "aws-sdk-v1": "1.60.2",
    "blobstore_client": _BOSH,
    "bosh-template": _BOSH,
    "bosh_cli": _BOSH,
    "bosh_common": _BOSH,
    "cf-uaa-lib": "3.2.4",
    "highline": "1.6.21",
    "httpclient": "2.4.0",
    "json": "1.8.3",
    "json_pure": "1.8.3",
    "little-plugger": "1.1.3",
    "logging": "1.8.2",
    "mini_portile": "0.6.2",
    "minitar": "0.5.4",
    "multi_json": "1.11.2",
    "net-scp": "1.1.2",
    "net-ssh": "2.9.2",
    "net-ssh-gateway": "1.2.0",
    "netaddr": "1.5.0",
    "nokogiri": "1.6.6.2",
    "progressbar": "0.9.2",
    "semi_semantic": "1.1.0",
    "sshkey": "1.7.0",
    "terminal-table": "1.4.5",
}
