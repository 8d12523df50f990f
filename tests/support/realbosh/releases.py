"""Real release tarballs, made by the real ``bosh create-release`` and collected from bosh-cli's own
test assets, cached between sessions.

Sources: the release directories under ``releases/`` (``bosh``: the seven jobs of
manifests/microbosh.yml; ``bosh-aws-cpi``: ``aws_cpi``; ``test-cpi``: the offline test CPI, built
under the name ``bosh-aws-cpi`` so that the manifest's ``cloud_provider.template`` finds it) and
bosh-cli's ``acceptance/assets/sample-release``, extracted from the source tarball.  Each is copied
to a work directory (``.final_builds``, ``.dev_builds`` and old tarballs removed, ``config/blobs.yml``
made if missing, ``config/final.yml`` given a local blobstore) and built five ways:

    LABEL-dev           create-release --tarball=X --force           (sha256 digests, v7's default)
    LABEL-dev-sha1      bosh sha1ify-release of it                    (what bosh-init 0.0.81 was made for)
    LABEL-final         create-release --final --version=V --tarball=X
    LABEL-final-sha1    sha1ify-release of it
    LABEL-final-sha2    sha2ify-release of LABEL-final-sha1

The real tarballs among bosh-cli's test assets (sha1 and sha256, plain and compiled) are added as
``asset-NAME``.  Everything lands in ``CACHE/real-releases/LABEL-KEY/`` where KEY hashes the inputs
(the source tree, the build options, the upstream sources' SHA256SUMS, this module's
BUILDER_VERSION); a finished directory is never rebuilt.  Builds run offline with their own HOME
(the CLI's ``~/.bosh`` cache) and a timeout.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support.realbosh.tools import CACHE, CLI_SOURCES, RealTools, run_tool

HERE = Path(__file__).resolve().parent
RELEASES = HERE / "releases"
BUILDER_VERSION = "2"
CLI_TOP = "bosh-cli-7.9.13/"
SAMPLE_RELEASE = "acceptance/assets/sample-release/"
ASSETS = (
    "acceptance/assets/sample-release-compiled.tgz",
    "integration/assets/small-sha128-release.tgz",
    "integration/assets/small-sha256-release.tgz",
    "integration/assets/small-sha128-compiled-release.tgz",
    "integration/assets/small-sha256-compiled-release.tgz",
)
VARIANTS = ("dev", "dev-sha1", "final", "final-sha1", "final-sha2")
SOURCE_LABELS = ("sample-release", "bosh", "bosh-aws-cpi", "test-cpi")  # the sources() below
# Every label build_all returns, known before anything is built (for test ids).
LABELS = tuple(f"{s}-{v}" for s in SOURCE_LABELS for v in VARIANTS) + tuple(
    "asset-" + Path(a).name.removesuffix(".tgz") for a in ASSETS
)


@dataclass(frozen=True)
class RealRelease:
    label: str  # e.g. "bosh-dev-sha1", "asset-small-sha256-release"
    name: str  # release.MF name
    version: str
    path: Path
    made_by: str  # "create-release", "sha1ify-release", "sha2ify-release" or "bosh-cli test asset"
    compiled: bool


@dataclass(frozen=True)
class ReleaseSource:
    label: str
    directory: Path
    name: str | None = None  # --name for create-release (default: config/final.yml's)
    final_version: str = "1"
    substitutions: tuple[tuple[str, str, str], ...] = ()  # (file relative to the release, old, new)


def cache_root(fallback: Path) -> Path:
    """CACHE/real-releases when it can be written, else ``fallback``."""
    root = CACHE / "real-releases"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
        return root
    except OSError:
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback


def _tree_digest(directory: Path, h) -> None:
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        if rel.startswith((".final_builds/", ".dev_builds/", "dev_releases/", "releases/")):
            continue
        h.update(f"{rel}\0{os.access(path, os.X_OK)}\0".encode())
        h.update(path.read_bytes())


def _key(source: ReleaseSource, tools: RealTools) -> str:
    h = hashlib.sha256(f"{BUILDER_VERSION}\0{tools.sources}\0{source.name}\0{source.final_version}\0".encode())
    h.update(json.dumps(source.substitutions).encode())
    _tree_digest(source.directory, h)
    return h.hexdigest()[:16]


def _prepare(source: ReleaseSource, work: Path) -> Path:
    """A clean copy of the release directory, ready for a dev and a final build."""
    tree = work / "release"
    shutil.copytree(source.directory, tree, symlinks=False)
    for stale in (".final_builds", ".dev_builds", "dev_releases", "releases"):
        shutil.rmtree(tree / stale, ignore_errors=True)
    for rel, old, new in source.substitutions:
        target = tree / rel
        text = target.read_text()
        if old not in text:
            raise ValueError(f"{source.directory / rel} no longer contains {old!r}")
        target.write_text(text.replace(old, new))
    blobs = tree / "config" / "blobs.yml"
    if not blobs.exists():
        blobs.write_text("--- {}\n")
    final = tree / "config" / "final.yml"
    config = yaml.safe_load(final.read_text()) if final.exists() else {}
    config["blobstore"] = {"provider": "local", "options": {"blobstore_path": str(work / "blobstore")}}
    (work / "blobstore").mkdir()
    final.write_text(yaml.safe_dump(config))
    return tree


def _bosh(tools: RealTools, work: Path, *args: str, cwd: Path | None = None) -> None:
    proc = run_tool([tools.bosh, "-n", *args], home=work / "home", cwd=cwd, offline=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"bosh {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def _build(source: ReleaseSource, tools: RealTools, work: Path, out: Path) -> None:
    tree = _prepare(source, work)
    named = ["--name", source.name] if source.name else []
    label = source.label
    _bosh(tools, work, "create-release", *named, f"--tarball={out / f'{label}-dev.tgz'}", "--force", cwd=tree)
    final_args = ["--final", f"--version={source.final_version}", f"--tarball={out / f'{label}-final.tgz'}"]
    _bosh(tools, work, "create-release", *named, *final_args, cwd=tree)
    for made, base in (("dev-sha1", "dev"), ("final-sha1", "final")):
        _bosh(tools, work, "sha1ify-release", str(out / f"{label}-{base}.tgz"), str(out / f"{label}-{made}.tgz"))
    _bosh(tools, work, "sha2ify-release", str(out / f"{label}-final-sha1.tgz"), str(out / f"{label}-final-sha2.tgz"))


def _publish(built: Path, done: Path) -> None:
    """Move a finished build into place; another session that finished first wins."""
    if not (done / "done").exists():
        shutil.rmtree(done, ignore_errors=True)  # a half-written one
    try:
        os.replace(built, done)
    except OSError:
        if not (done / "done").exists():
            raise


def _release_mf(path: Path) -> dict:
    with tarfile.open(path) as tar:
        for member in tar:
            if member.name.removeprefix("./") == "release.MF":
                return yaml.safe_load(tar.extractfile(member).read())
    raise ValueError(f"{path} has no release.MF")


def _describe(label: str, path: Path, made_by: str) -> RealRelease:
    mf = _release_mf(path)
    return RealRelease(label, mf["name"], str(mf["version"]), path, made_by, bool(mf.get("compiled_packages")))


def _made_by(variant: str) -> str:
    return {"dev-sha1": "sha1ify-release", "final-sha1": "sha1ify-release", "final-sha2": "sha2ify-release"}.get(
        variant, "create-release"
    )


def build_source(source: ReleaseSource, tools: RealTools, root: Path) -> dict[str, RealRelease]:
    """The five tarballs of one source, from the cache or built now."""
    done = root / f"{source.label}-{_key(source, tools)}"
    if not (done / "done").exists():
        staging = root / f".{done.name}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "out").mkdir(parents=True)
        _build(source, tools, staging, staging / "out")
        (staging / "out" / "done").write_text("")
        _publish(staging / "out", done)
        shutil.rmtree(staging, ignore_errors=True)
    return {
        f"{source.label}-{v}": _describe(f"{source.label}-{v}", done / f"{source.label}-{v}.tgz", _made_by(v))
        for v in VARIANTS
    }


def upstream_assets(root: Path) -> Path:
    """bosh-cli's sample release directory and its test-asset release tarballs, extracted once."""
    key = hashlib.sha256(f"{CLI_SOURCES.name}\0{CLI_SOURCES.stat().st_size}\0{BUILDER_VERSION}".encode())
    done = root / f"bosh-cli-assets-{key.hexdigest()[:16]}"
    if (done / "done").exists():
        return done
    staging = root / f".{done.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    wanted = tuple(CLI_TOP + a for a in ASSETS)
    with tarfile.open(CLI_SOURCES) as tar:
        members = [m for m in tar if m.name.startswith(CLI_TOP + SAMPLE_RELEASE) or m.name in wanted]
        tar.extractall(staging, members=members, filter="data")
    os.replace(staging / CLI_TOP.rstrip("/"), staging / "src")
    (staging / "src" / "done").write_text("")
    _publish(staging / "src", done)
    shutil.rmtree(staging, ignore_errors=True)
    return done


def sources(assets: Path, cpi_state_dir: Path) -> tuple[ReleaseSource, ...]:
    """The release directories built by the real CLI.  The test CPI's default state directory is
    baked into its job spec (tests override it with the job property ``test_cpi.state_dir``)."""
    return (
        ReleaseSource("sample-release", assets / SAMPLE_RELEASE, final_version="7"),
        ReleaseSource("bosh", RELEASES / "bosh", final_version="233"),
        ReleaseSource("bosh-aws-cpi", RELEASES / "bosh-aws-cpi", final_version="36"),
        ReleaseSource(
            "test-cpi",
            RELEASES / "test-cpi",
            name="bosh-aws-cpi",
            final_version="36",
            substitutions=(("jobs/aws_cpi/spec", "@STATE_DIR@", str(cpi_state_dir)),),
        ),
    )


def build_all(tools: RealTools, root: Path) -> dict[str, RealRelease]:
    """Every real release tarball of the fixtures, by label."""
    assets = upstream_assets(root)
    found: dict[str, RealRelease] = {}
    for source in sources(assets, root / "test-cpi-state"):
        found.update(build_source(source, tools, root))
    for asset in ASSETS:
        label = "asset-" + Path(asset).name.removesuffix(".tgz")
        found[label] = _describe(label, assets / asset, "bosh-cli test asset")
    return found
