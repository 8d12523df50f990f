"""Small real inputs for installer tests: .debs from ``dpkg-deb --build``, a fake Ruby source tree,
tiny gems from ``gem build``, and a bundle directory (payload.7z, bundle.lock, SHA256SUMS) holding them.

The fake Ruby source has a real ``configure`` script and ``Makefile``; ``make install`` installs
``ruby`` and ``gem`` that either wrap this machine's Ruby (``flavour="wrap"``: real gem installs
into ``PREFIX/gemhome``) or are shell stand-ins that need nothing but ``sh`` (``flavour="standin"``,
for chroots without Ruby).  ``slow`` seconds make ``make`` sleep, for kill tests.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import py7zr

from bundler.core.digest import hash_file, sha256_file
from bundler.core.lock import Artifact, Lock

TARGET = {"os": "debian", "release": "12", "codename": "bookworm", "arch": "amd64"}


def make_deb(
    dest: Path, name: str, version: str, depends: str = "", postinst: str | None = None, pre_depends: str = ""
) -> Path:
    """A tiny architecture-independent .deb installing ``/usr/share/NAME/README``."""
    tree = dest / f"{name}-tree"
    (tree / "DEBIAN").mkdir(parents=True, exist_ok=True)
    (tree / "usr/share" / name).mkdir(parents=True, exist_ok=True)
    (tree / "usr/share" / name / "README").write_text(f"{name} {version}\n")
    control = f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: tests <t@example.invalid>\n"
    if depends:
        control += f"Depends: {depends}\n"
    if pre_depends:
        control += f"Pre-Depends: {pre_depends}\n"
    control += f"Description: test package {name}\n"
    (tree / "DEBIAN/control").write_text(control)
    if postinst is not None:
        script = tree / "DEBIAN/postinst"
        script.write_text("#!/bin/sh\nset -e\n" + postinst + "\n")
        script.chmod(0o755)
    out = dest / f"{name}_{version}_all.deb"
    subprocess.run(
        ["dpkg-deb", "-Zgzip", "--root-owner-group", "--build", str(tree), str(out)], check=True, capture_output=True
    )
    return out


def make_dpkg_root(root: Path) -> Path:
    """An empty dpkg database under ``root``, for ``DPKG_ROOT=root dpkg -i`` (host untouched)."""
    admin = root / "var/lib/dpkg"
    for sub in ("info", "updates", "triggers"):
        (admin / sub).mkdir(parents=True, exist_ok=True)
    (admin / "status").touch()
    return root


def dpkg_status(root: Path) -> dict[str, str]:
    """package -> Status field, from ``root``'s dpkg database."""
    out = {}
    text = (root / "var/lib/dpkg/status").read_text()
    for stanza in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line.startswith(" "))
        if "Package" in fields:
            out[fields["Package"]] = fields.get("Status", "")
    return out


_WRAP_RUBY = '#!/bin/sh\nGEM_HOME="@PREFIX@/gemhome" GEM_PATH="@PREFIX@/gemhome" exec /usr/bin/ruby "$@"\n'
_WRAP_GEM = '#!/bin/sh\nGEM_HOME="@PREFIX@/gemhome" GEM_PATH="@PREFIX@/gemhome" exec /usr/bin/gem "$@"\n'
_STANDIN_RUBY = '#!/bin/sh\n[ "$1" = -v ] && echo "ruby @VERSION@p0 (stand-in) [x86_64-linux]"\nexit 0\n'
_STANDIN_GEM = textwrap.dedent(
    """\
    #!/bin/sh
    # stand-in gem: 'install --local --no-document F.gem…' records NAME (VERSION); 'list' prints them
    db="@PREFIX@/lib/standin-gems"
    cmd=$1; shift
    case "$cmd" in
    install)
        @SLOW@
        for f in "$@"; do
            case "$f" in --*) continue ;; esac
            [ -f "$f" ] || { echo "ERROR:  Could not find a valid gem '$f'"; exit 2; }
            base=${f%.gem}; echo "${base%-*} (${base##*-})" >> "$db"; echo "Successfully installed $base"
        done ;;
    list) [ -f "$db" ] && cat "$db"; exit 0 ;;
    esac
    """
)


def make_ruby_source(
    dest: Path, version: str = "3.1.2", flavour: str = "wrap", slow: int = 0, slow_gems: int = 0
) -> Path:
    """``ruby-VERSION.tar.gz`` with a configure script and a Makefile; see the module docstring.

    ``slow``: the first ``make`` sleeps that long; ``slow_gems``: the stand-in ``gem install`` sleeps
    that long the first time (markers in the root's /tmp make reruns fast)."""
    ruby = _WRAP_RUBY if flavour == "wrap" else _STANDIN_RUBY
    gem = _WRAP_GEM if flavour == "wrap" else _STANDIN_GEM
    gem_sleep = f'[ -f /tmp/gems-slept ] || {{ touch /tmp/gems-slept; echo "slow install"; sleep {slow_gems}; }}'
    gem = gem.replace("@SLOW@", gem_sleep if slow_gems else ":")
    configure = textwrap.dedent(
        """\
        #!/bin/sh
        prefix=/usr/local
        for arg in "$@"; do case "$arg" in --prefix=*) prefix=${arg#--prefix=} ;; esac; done
        echo "checking for a fake compiler... yes"
        echo "PREFIX = $prefix" > config.mk
        echo "configured with $*"
        """
    )
    sleep = f"\t[ -f /tmp/make-slept ] || {{ touch /tmp/make-slept; sleep {slow}; }}\n" if slow else ""
    makefile = (
        "include config.mk\n"
        "all:\n\techo compiling miniruby.c\n" + sleep + "\techo linking ruby > built\n"
        "install: all\n"
        "\tmkdir -p $(PREFIX)/bin $(PREFIX)/lib\n"
        "\tsed 's|@PREFIX@|$(PREFIX)|g; s|@VERSION@|" + version + "|g' ruby.in > $(PREFIX)/bin/ruby\n"
        "\tsed 's|@PREFIX@|$(PREFIX)|g' gem.in > $(PREFIX)/bin/gem\n"
        "\tchmod 755 $(PREFIX)/bin/ruby $(PREFIX)/bin/gem\n"
    )
    files = {"configure": (configure, 0o755), "Makefile": (makefile, 0o644), "ruby.in": (ruby, 0o644)}
    files["gem.in"] = (gem, 0o644)
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / f"ruby-{version}.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        top = tarfile.TarInfo(f"ruby-{version}")
        top.type, top.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(top)
        for name, (text, mode) in files.items():
            info = tarfile.TarInfo(f"ruby-{version}/{name}")
            data = text.encode()
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return out


def make_gem(dest: Path, name: str, version: str, deps: tuple[tuple[str, str], ...] = ()) -> Path:
    """A real ``NAME-VERSION.gem`` from ``gem build``."""
    work = dest / f"{name}-src"
    (work / "lib").mkdir(parents=True, exist_ok=True)
    (work / "lib" / f"{name}.rb").write_text(f"module {name.capitalize()}; end\n")
    dep_lines = "".join(f"  s.add_dependency {d!r}, {r!r}\n" for d, r in deps)
    (work / f"{name}.gemspec").write_text(
        "Gem::Specification.new do |s|\n"
        f"  s.name = {name!r}\n  s.version = {version!r}\n  s.summary = 'test gem'\n"
        f"  s.authors = ['tests']\n  s.files = ['lib/{name}.rb']\n  s.license = 'MIT'\n{dep_lines}end\n"
    )
    subprocess.run(["gem", "build", f"{name}.gemspec"], cwd=work, check=True, capture_output=True)
    out = dest / f"{name}-{version}.gem"
    os.replace(work / f"{name}-{version}.gem", out)
    return out


@dataclass
class BundleFiles:
    """What goes into a test bundle: (kind, name, version, payload path, local file) and lock sections."""

    items: list[tuple[str, str, str, str, Path]] = field(default_factory=list)
    sections: dict = field(default_factory=dict)
    target: dict = field(default_factory=lambda: dict(TARGET))
    metas: dict[str, dict] = field(default_factory=dict)  # payload path -> Artifact.meta

    def add(self, kind: str, name: str, version: str, path: str, file: Path, meta: dict | None = None) -> None:
        self.items.append((kind, name, version, path, file))
        if meta:
            self.metas[path] = meta


def write_bundle(files: BundleFiles, out: Path, spec_name: str = "test") -> Lock:
    """A bundle directory: payload.7z (stored, no compression), bundle.lock, SHA256SUMS."""
    out.mkdir(parents=True, exist_ok=True)
    artifacts = []
    for kind, name, version, path, file in files.items:
        sha, size = hash_file(file)
        meta = files.metas.get(path, {})
        artifacts.append(Artifact(kind, name, version, f"file://{file}", size, sha, "pinned", path, meta))
    lock = Lock(spec_name, files.target, tuple(sorted(artifacts, key=lambda a: a.key)), files.sections)
    with py7zr.SevenZipFile(out / "payload.7z", "w", filters=[{"id": py7zr.FILTER_COPY}]) as archive:
        for _kind, _name, _version, path, file in sorted(files.items, key=lambda i: i[3]):
            archive.write(file, path)
    (out / "bundle.lock").write_text(lock.dumps())
    write_sums(out)
    return lock


def write_sums(out: Path) -> None:
    lines = []
    for path in sorted(out.iterdir()):
        if path.is_file() and path.name != "SHA256SUMS":
            lines.append(f"{sha256_file(path)}  {path.name}\n")
    (out / "SHA256SUMS").write_text("".join(lines))


def make_delta_bundle(full: Path, old_lock: Path, dest: Path) -> Path:
    """What ``bosh-bundle build --since OLD`` makes of the bundle ``full``: its lock whole, a payload of
    only what ``old_lock`` lacks, ``delta.json`` and ``SHA256SUMS``."""
    import hashlib
    import tempfile

    from bundler.core.delta import delta_of, packed_artifacts, write_delta
    from bundler.core.lock import parse_lock

    lock = parse_lock((full / "bundle.lock").read_text())
    old_bytes = old_lock.read_bytes()
    delta = delta_of(lock, parse_lock(old_bytes.decode()), hashlib.sha256(old_bytes).hexdigest())
    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as unpacked:
        with py7zr.SevenZipFile(full / "payload.7z") as archive:
            archive.extractall(unpacked)
        with py7zr.SevenZipFile(dest / "payload.7z", "w", filters=[{"id": py7zr.FILTER_COPY}]) as archive:
            for art in packed_artifacts(lock, delta):
                archive.write(Path(unpacked) / art.path, art.path)
    (dest / "bundle.lock").write_bytes((full / "bundle.lock").read_bytes())
    write_delta(dest, delta)
    write_sums(dest)
    return dest
