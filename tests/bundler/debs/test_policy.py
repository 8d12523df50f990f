"""apt's pin priorities, request syntax and the target's installed state, on in-memory indexes."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bundler.apt.index import build_index
from bundler.apt.release import Release, check_fresh
from bundler.core.errors import InputError, IntegrityError, ResolutionError
from bundler.debs.freshness import older_than_before, release_records
from bundler.debs.marking import Resolver
from bundler.debs.policy import Policy, parse_preferences
from bundler.debs.resolve import base_release, refuse_removals
from bundler.debs.universe import Universe, read_status
from bundler.spec import AptSource

URL = "http://deb.example.invalid/debian"


def release(suite: str, frozen: bool = False, **fields: str) -> Release:
    source = AptSource(URL, (suite,), ("main",), None, True, frozen)
    return Release(source, suite, {"Suite": suite, "Codename": suite, "Origin": "Debian", **fields}, {}, "trusted")


def stanzas(packages: list[dict[str, str]]) -> str:
    return "\n".join("".join(f"{k}: {v}\n" for k, v in {"Architecture": "amd64", **p}.items()) for p in packages)


def universe(*suites: tuple[Release, list[dict[str, str]]]) -> Universe:
    pairs = [
        (rel, build_index(stanzas(p), f"{rel.dists_url}/main/binary-amd64/Packages", "0" * 64)) for rel, p in suites
    ]
    return Universe(pairs, "amd64")


def installed(u: Universe, tmp_path: Path, packages: list[dict[str, str]]) -> None:
    status = tmp_path / "status"
    status.write_text(stanzas([{"Status": "install ok installed", **p} for p in packages]))
    u.set_installed(read_status(status, "amd64"))


MAIN = release("trixie")
BPO = release("trixie-backports", NotAutomatic="yes", ButAutomaticUpgrades="yes")
EXP = release("experimental", NotAutomatic="yes")
PKGS = {
    "main": [
        {"Package": "tool", "Version": "1.0", "Depends": "libtool1 (>= 1.0)"},
        {"Package": "libtool1", "Version": "1.0"},
    ],
    "bpo": [
        {"Package": "tool", "Version": "2.0", "Depends": "libtool1 (>= 2.0)"},
        {"Package": "libtool1", "Version": "2.0"},
    ],
    "exp": [{"Package": "tool", "Version": "3.0"}],
}


def three() -> Universe:
    return universe((MAIN, PKGS["main"]), (BPO, PKGS["bpo"]), (EXP, PKGS["exp"]))


def marked(u: Universe, *request: str) -> dict[str, str]:
    r = Resolver(u)
    r.request(list(request))
    return {n: c.version for n, c in r.marked.items()}


def test_not_automatic_suites_are_not_candidates_but_automatic_upgrades_are(tmp_path):
    u = three()
    assert marked(u, "tool") == {"tool": "1.0", "libtool1": "1.0"}
    installed(u, tmp_path, [{"Package": "tool", "Version": "1.5"}, {"Package": "libtool1", "Version": "2.0"}])
    assert u.candidate("tool").version == "2.0"  # ButAutomaticUpgrades: 100 beats nothing newer than installed
    installed(u, tmp_path, [{"Package": "tool", "Version": "2.5"}])
    assert u.candidate("tool").version == "2.5"  # experimental (1) never upgrades what is installed (100)


def test_preferences_release_version_and_origin_pins(tmp_path):
    u = three()
    u.set_policy(Policy(parse_preferences("Package: *\nPin: release a=trixie-backports\nPin-Priority: 500\n", "p")))
    assert marked(u, "tool") == {"tool": "2.0", "libtool1": "2.0"}
    u.set_policy(Policy(parse_preferences("Package: tool\nPin: version 3.*\nPin-Priority: 990\n", "p")))
    assert u.candidate("tool").version == "3.0"
    assert u.candidate("libtool1").version == "1.0"
    u.set_policy(Policy(parse_preferences("Package: *\nPin: origin deb.example.invalid\nPin-Priority: -1\n", "p")))
    assert u.candidate("tool") is None
    u.set_policy(
        Policy(parse_preferences("Package: /^tool$/\nPin: release n=experimental, o=Debian\nPin-Priority: 600\n", "p"))
    )
    assert u.candidate("tool").version == "3.0"


def test_a_downgrade_needs_a_pin_of_1000(tmp_path):
    u = three()
    installed(u, tmp_path, [{"Package": "tool", "Version": "2.0"}])
    u.set_policy(Policy(parse_preferences("Package: tool\nPin: version 1.0\nPin-Priority: 999\n", "p")))
    assert u.candidate("tool").version == "2.0"
    u.set_policy(Policy(parse_preferences("Package: tool\nPin: version 1.0\nPin-Priority: 1001\n", "p")))
    assert u.candidate("tool").version == "1.0"


@pytest.mark.parametrize(
    "text, message",
    [
        ("Package: tool\nPin: version 1\n", "lacks Pin-Priority"),
        ("Package: tool\nPin: version 1\nPin-Priority: high\n", "is not a number"),
        ("Package: tool\nPin: codename x\nPin-Priority: 1\n", "expected 'release …'"),
        ("Package: *\nPin: release q=x\nPin-Priority: 1\n", "expected a=, n="),
    ],
)
def test_bad_preferences_name_the_stanza(text, message):
    with pytest.raises(InputError, match=message) as err:
        parse_preferences(text, "/etc/apt/preferences")
    assert "/etc/apt/preferences: stanza 1" in str(err.value)


def test_name_suite_takes_dependencies_from_that_suite_and_other_arches_are_unknown():
    u = three()
    assert marked(u, "tool/trixie-backports") == {"tool": "2.0", "libtool1": "2.0"}
    assert marked(u, "tool:amd64") == {"tool": "1.0", "libtool1": "1.0"}
    with pytest.raises(ResolutionError, match="unable to locate package tool:i386"):
        marked(u, "tool:i386")
    with pytest.raises(ResolutionError, match="release 'sid' for tool is not found"):
        marked(u, "tool/sid")


SRC = release("bookworm")
SIBLINGS = [
    {"Package": "libsystemd0", "Version": "252.2", "Source": "systemd"},
    {"Package": "libudev1", "Version": "252.2", "Source": "systemd"},
    {"Package": "needs-new", "Version": "1", "Depends": "libsystemd0 (>= 252.2)"},
    {"Package": "needs-udev", "Version": "1", "Depends": "libudev1 (>= 252.2)"},
    {"Package": "mta-b", "Version": "1", "Conflicts": "mta-a"},
    {"Package": "breaks-base", "Version": "1", "Conflicts": "base-files"},
]
OLD = [
    {"Package": "libsystemd0", "Version": "252.1", "Source": "systemd"},
    {"Package": "libudev1", "Version": "252.1", "Source": "systemd"},
    {"Package": "mta-a", "Version": "1"},
    {"Package": "base-files", "Version": "12", "Essential": "yes"},
    {"Package": "apt", "Version": "2.6.1"},
]


def test_holds_siblings_and_the_targets_apt(tmp_path):
    u = universe((SRC, SIBLINGS))
    installed(u, tmp_path, OLD)
    assert marked(u, "needs-new") == {"needs-new": "1", "libsystemd0": "252.2", "libudev1": "252.2"}
    held = [dict(p, Status="hold ok installed") if p["Package"] == "libudev1" else p for p in OLD]
    installed(u, tmp_path, held)
    assert marked(u, "needs-new") == {"needs-new": "1", "libsystemd0": "252.2"}  # a held sibling stays
    with pytest.raises(ResolutionError, match="libudev1 is held at 252.1"):
        marked(u, "needs-udev")
    older_apt = [dict(p, Version="2.2.4") if p["Package"] == "apt" else p for p in OLD]
    installed(u, tmp_path, older_apt)
    assert marked(u, "needs-new") == {"needs-new": "1", "libsystemd0": "252.2"}  # apt < 2.6: no source siblings


def test_removals_are_reported_and_essential_ones_refused(tmp_path):
    u = universe((SRC, SIBLINGS))
    installed(u, tmp_path, OLD)
    r = Resolver(u)
    res = r.result(r.request(["mta-b"]))
    assert res.removes == ["mta-a"]
    message = refuse_removals(res)
    assert "apt would remove mta-a" in message and "apt-get remove mta-a" in message
    with pytest.raises(ResolutionError, match="base-files .* is Essential: apt does not remove it"):
        Resolver(u).request(["breaks-base"])


def test_a_status_file_without_status_fields_is_an_error(tmp_path):
    packages = tmp_path / "Packages"
    packages.write_text(stanzas(SIBLINGS))
    with pytest.raises(InputError, match="no stanza has a 'Status' field"):
        read_status(packages, "amd64")


def test_minimal_base_is_taken_from_the_release_suite_whatever_the_order():
    sec = release("trixie-security")
    u = universe((sec, []), (MAIN, PKGS["main"]))
    assert base_release(u) is MAIN


def test_valid_until_is_checked_unless_the_mirror_is_frozen():
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    fresh = release(
        "trixie", **{"Date": "Sat, 28 Nov 2026 14:09:31 UTC", "Valid-Until": "Sat, 05 Dec 2026 14:09:31 UTC"}
    )
    check_fresh(fresh, now)
    stale = release(
        "trixie", **{"Date": "Sat, 01 Nov 2026 14:09:31 UTC", "Valid-Until": "Sat, 08 Nov 2026 14:09:31 UTC"}
    )
    with pytest.raises(IntegrityError, match="expired on Sat, 08 Nov 2026 .* mark the source 'frozen: true'"):
        check_fresh(stale, now)
    frozen = release("trixie", True, **{"Valid-Until": "Sat, 08 Nov 2026 14:09:31 UTC"})
    check_fresh(frozen, now)
    records = release_records([fresh])
    assert records == [
        {"url": URL, "suite": "trixie", "date": "Sat, 28 Nov 2026 14:09:31 UTC",
         "valid_until": "Sat, 05 Dec 2026 14:09:31 UTC"}
    ]  # fmt: skip
    older = [dict(records[0], date="Sat, 21 Nov 2026 14:09:31 UTC")]
    assert older_than_before(older, records) and "older than" in older_than_before(older, records)[0]
    assert older_than_before(records, older) == []


def test_the_lock_records_each_suites_date_and_valid_until():
    from bundler.debs.resolve import lock_part

    u = universe((MAIN, PKGS["main"]))
    r = Resolver(u)
    res = r.result(r.request([]))
    records = release_records([release("trixie", Date="Sat, 28 Nov 2026 14:09:31 UTC")])
    section = lock_part(res, "none", sources=records).section
    assert section["sources"] == [
        {"url": URL, "suite": "trixie", "date": "Sat, 28 Nov 2026 14:09:31 UTC", "valid_until": ""}
    ]
