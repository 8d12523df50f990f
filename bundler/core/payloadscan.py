"""One pass over the payload volumes: every volume's sha256 and every member's sha256, on two cores.

An unencrypted payload stores its members with the COPY filter, contiguously, at offsets the 7z
header gives (``bundler.core.archive.Payload.members``), so a member's sha256 is the sha256 of a
byte range of the volumes.  ``scan_payload`` runs two hashing chains on two threads:

- the volume chain reads the volumes in order, one sha256 per volume (what ``SHA256SUMS`` lists);
- the member chain reads the members in offset order, one sha256 per member (what the lock lists).

The member chain follows the volume chain at ``GAP`` to ``LAG`` bytes, so the bytes the volume chain
reads from disk are still in the page cache when the member chain reads them: every byte comes from
the disk once.  (Sharing one buffer between the chains was measured slower: handing each block from
one thread to the other costs more than the second copy out of the page cache.)  Each byte needs two
sha256 passes (its volume's and its member's), and hashlib releases the GIL on large blocks, so on
two free cores this runs at about the speed of one core hashing the bundle once: the limit of two
passes on two cores.  Imports only the standard library and ``bundler.core``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field

from bundler.core.archive import Member, Payload
from bundler.core.progress import NULL_BAR, NullBar

BLOCK = 4 * 1024 * 1024
LAG = 256 * 1024 * 1024
GAP = 32 * 1024 * 1024


@dataclass
class Scan:
    volumes: dict[str, str] = field(default_factory=dict)  # volume file name -> sha256
    members: dict[str, str] = field(default_factory=dict)  # member name -> sha256
    error: str | None = None  # a member that ends past the volumes
    failure: BaseException | None = field(default=None, repr=False)


class _Pace:
    """Keeps the member chain between ``GAP`` and ``LAG`` bytes behind the volume chain.

    Within ``LAG`` the bytes the volume chain read from disk are still cached for the member chain;
    at least ``GAP`` apart the two never read the same pages at the same moment (measured: two
    threads reading the same pages in lockstep cost a third more CPU)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.pos = {"volume": 0, "member": 0}

    def at(self, which: str, pos: int) -> None:
        """``which`` chain is about to read from ``pos``; waits until it may."""
        with self.cond:
            self.pos[which] = pos
            self.cond.notify_all()
            if which == "volume":
                self.cond.wait_for(lambda: pos - self.pos["member"] <= LAG)
            else:
                self.cond.wait_for(lambda: self.pos["volume"] - pos >= GAP)

    def done(self, which: str) -> None:
        with self.cond:
            self.pos[which] = 1 << 62
            self.cond.notify_all()


def _blocks(payload: Payload, start: int, end: int, buf: bytearray) -> Iterator[tuple[int, memoryview]]:
    """(offset, bytes) of ``[start, end)`` of the payload, at most ``BLOCK`` each, split at volume ends."""
    reader = payload.reader
    ends = [*reader.starts[1:], reader.size]
    for fd, vstart, vend in zip(reader.fds, reader.starts, ends, strict=True):
        lo, hi = max(start, vstart), min(end, vend)
        while lo < hi:
            n = os.preadv(fd, [memoryview(buf)[: min(BLOCK, hi - lo)]], lo - vstart)
            if n == 0:
                return
            yield lo, memoryview(buf)[:n]
            lo += n


def _volume_chain(payload: Payload, pace: _Pace, out: Scan) -> None:
    reader, buf = payload.reader, bytearray(BLOCK)
    ends = [*reader.starts[1:], reader.size]
    try:
        for path, start, end in zip(reader.paths, reader.starts, ends, strict=True):
            h = hashlib.sha256()
            pace.at("volume", start)
            for pos, view in _blocks(payload, start, end, buf):
                h.update(view)
                view.release()
                pace.at("volume", pos + BLOCK)
            out.volumes[path.name] = h.hexdigest()
    finally:
        pace.done("volume")


def _member_chain(payload: Payload, members: Sequence[Member], pace: _Pace, out: Scan, bar: NullBar) -> None:
    buf = bytearray(BLOCK)
    try:
        for m in members:
            start = int(m.offset or 0)
            h, got = hashlib.sha256(), 0
            pace.at("member", start)
            for pos, view in _blocks(payload, start, start + m.size, buf):
                h.update(view)
                got += len(view)
                bar.advance(len(view))
                view.release()
                pace.at("member", pos + BLOCK)
            if got != m.size:
                out.error = f"payload member {m.name}: the volumes end before its last byte"
                return
            out.members[m.name] = h.hexdigest()
    except BaseException as exc:  # re-raised by scan_payload
        out.failure = exc
    finally:
        pace.done("member")


def read_once_pays(payload: Payload) -> bool:
    """Whether the payload is too big for the page cache to serve a second read (over half of the
    memory available): then ``scan_payload`` keeps disk reads to one; otherwise hashing the volumes
    and the members as independent tasks (the second read served from the page cache) was measured
    faster on two cores, since the tasks never wait for each other."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            info = dict(line.split(":", 1) for line in f if ":" in line)
        available = int(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return True
    return payload.reader.size > available // 2


def scan_payload(payload: Payload, names: Collection[str] | None = None, bar: NullBar = NULL_BAR) -> Scan:
    """sha256 of every volume and of every file member (those in ``names``, default all) in one pass.

    The payload must be ``direct`` (unencrypted, COPY).  ``bar`` advances by the member bytes hashed."""
    members = sorted(
        (m for m in payload.members if m.type == "file" and m.size and (names is None or m.name in names)),
        key=lambda m: (m.offset or 0, m.name),
    )
    out = Scan()
    for m in payload.members:
        if m.type == "file" and m.size == 0 and (names is None or m.name in names):
            out.members[m.name] = hashlib.sha256().hexdigest()
    pace = _Pace()
    worker = threading.Thread(
        target=_member_chain, args=(payload, members, pace, out, bar), name="scan-members", daemon=True
    )
    worker.start()
    try:
        _volume_chain(payload, pace, out)
    finally:
        worker.join()
    if out.failure is not None:
        raise out.failure
    return out
