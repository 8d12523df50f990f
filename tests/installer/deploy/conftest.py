"""The real bosh-init for the deploy tests that it can answer offline (help, version, its manifest
refusals, ``delete`` without a state file): the fixtures of tests/agreement/conftest.py (``real_tools``
skips, with the reason, where the real tools cannot be built or run)."""

from tests.agreement.conftest import light_stemcell, microbosh, microbosh_manifest, real_releases, real_tools

__all__ = ["light_stemcell", "microbosh", "microbosh_manifest", "real_releases", "real_tools"]
