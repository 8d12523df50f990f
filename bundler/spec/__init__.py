"""The bundle spec (``bundle.yml``): what the operator wants in an offline bundle.

``load_spec`` parses and validates a spec file into a frozen ``Spec``; every problem in the file is
reported at once, each with the file, line and key path, what is wrong and what is allowed.  The
spec says *what* is wanted; ``bosh-bundle lock`` resolves it into exact artifacts (``bundler.core.lock``).

Sections (all but ``target`` optional), each a type beside its parser in one module:

    document  name, bosh_io {url}, mirrors {UPSTREAM_PREFIX: MIRROR_PREFIX}; the Spec itself
    host      target {os, release, codename, arch}, runtime {mode, python, python_version}
    apt       apt {sources: system | [{url, suites, components, keyring, trusted}]},
              debs {packages, base, with_recommends}; one-line ``deb [...] URL SUITE COMP…`` sources
    ruby      ruby {version, rubygems, source, configure, prefix},
              gems {source, ruby, rubygems, platforms, requirements}
    files     releases [...], stemcells [...], binaries [...] and the FileRef they share
    fields    the checks every section uses (URLs, checksums, names listed twice)

This package is the spec's public face: import the types and functions from ``bundler.spec``.
Imports only ``bundler.core``.
"""

from bundler.spec.apt import BASES, AptSource, AptSpec, DebSpec, parse_one_line_source, split_source_options
from bundler.spec.document import Spec, load_spec, parse_spec, with_mirrors
from bundler.spec.files import BinarySpec, FileRef, ReleaseSpec, StemcellSpec
from bundler.spec.host import ARCHES, RuntimeSpec, Target
from bundler.spec.ruby import DebianSourceRef, GemSpec, RubySpec

__all__ = [
    "ARCHES",
    "BASES",
    "AptSource",
    "AptSpec",
    "BinarySpec",
    "DebSpec",
    "DebianSourceRef",
    "FileRef",
    "GemSpec",
    "ReleaseSpec",
    "RubySpec",
    "RuntimeSpec",
    "Spec",
    "StemcellSpec",
    "Target",
    "load_spec",
    "parse_one_line_source",
    "parse_spec",
    "split_source_options",
    "with_mirrors",
]
