"""How fresh the apt sources a lock was made from are: each suite's Release ``Date`` and ``Valid-Until``.

``release_records(universe)`` is the lock's ``debs.sources`` list (one entry per suite: URL, suite,
``date``, ``valid_until``; an expired Release was already refused by ``bundler.apt.release.check_fresh``
unless the source is frozen).  ``older_than_before(records, previous)`` compares with the previous lock:
a suite whose Release is older than the one the previous lock was made from means a stale or replayed
mirror; the lock goes on (a frozen mirror may be meant) but says so.

Imports ``bundler.apt.release`` and ``bundler.core``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bundler.apt.release import Release, release_time
from bundler.core.errors import BundleError
from bundler.core.lock import read_lock


def release_records(releases: Iterable[Release]) -> list[dict[str, str]]:
    out: dict[tuple[str, str], dict[str, str]] = {}
    for rel in releases:
        key = (rel.root, rel.suite)
        if key not in out:
            out[key] = {"url": rel.root, "suite": rel.suite, "date": rel.date, "valid_until": rel.valid_until}
    return list(out.values())


def previous_records(lock_path: Path) -> list[Mapping[str, Any]]:
    """``debs.sources`` of an existing lock (none when absent or unreadable: this is only a warning)."""
    if not lock_path.is_file():
        return []
    try:
        lock = read_lock(lock_path)
    except (BundleError, OSError, ValueError):
        return []
    raw = lock.sections.get("debs") or {}
    got = raw.get("sources") if isinstance(raw, Mapping) else None
    return [r for r in got or [] if isinstance(r, Mapping)]


def older_than_before(records: Iterable[Mapping[str, str]], previous: Iterable[Mapping[str, Any]]) -> list[str]:
    """One line per suite whose Release Date is older than in the previous lock."""
    before = {(str(r.get("url")), str(r.get("suite"))): str(r.get("date") or "") for r in previous}
    out = []
    for r in records:
        old = before.get((r["url"], r["suite"]))
        new_t, old_t = release_time(r["date"]), release_time(old or "")
        if new_t is not None and old_t is not None and new_t < old_t:
            out.append(
                f"{r['url']}/dists/{r['suite']}: the Release is dated {r['date']}, older than the {old} the"
                " previous lock was made from (a stale or replayed mirror?)"
            )
    return out
