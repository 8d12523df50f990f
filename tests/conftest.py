"""Shared fixtures.

``debian_archive``: this machine's apt sources (read from its apt configuration, never written in the
repository), checked to be reachable; tests using it are marked ``network`` and skip with the reason
when the archive cannot be reached.
"""

from __future__ import annotations

import pytest
import requests

from bundler.errors import BundleError
from bundler.sources.aptconfig import read_system_sources


@pytest.fixture(scope="session")
def debian_archive():
    """The list of ``AptSource`` of this machine's apt configuration, after one reachability check."""
    try:
        sources = read_system_sources()
    except BundleError as exc:
        pytest.skip(f"no usable apt configuration on this machine: {exc}")
    first = sources[0]
    url = f"{first.url}/dists/{first.suites[0]}/InRelease"
    try:
        resp = requests.head(url, timeout=10, allow_redirects=True)
    except requests.RequestException as exc:
        pytest.skip(f"the apt archive of this machine is unreachable ({type(exc).__name__})")
    if resp.status_code >= 400:
        pytest.skip(f"the apt archive of this machine answers HTTP {resp.status_code} for {first.suites[0]}/InRelease")
    return sources
