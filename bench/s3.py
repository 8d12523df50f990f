"""Benchmark: bundle publish/fetch through S3 (moto's server on 127.0.0.1) against boto3's own transfer.

Ours (``bundler.core.s3publish``, ``bundler.core.s3``): sequential multipart upload with per-part
SHA-256 and MD5, the whole file's sha256 recorded and checked; fetch streams, hashes and verifies
against SHA256SUMS.
Reference: ``boto3`` ``upload_file``/``download_file`` (s3transfer, 10 threads, no verification).
Both talk to the same local moto server, so the ratio shows our overhead, not network speed.

    python3 bench/s3.py [MiB per volume, default 32] [volumes, default 3]
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bundler.core.s3 import S3Location, fetch  # noqa: E402
from bundler.core.s3publish import publish  # noqa: E402
from tests.support.motoserver import MotoServer  # noqa: E402

MiB = 1024 * 1024


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp, MotoServer(Path(tmp)) as aws:
        root = Path(tmp) / "bundle"
        root.mkdir()
        lines = []
        for i in range(1, count + 1):
            data = os.urandom(size * MiB)
            name = f"payload.7z.{i:03d}"
            (root / name).write_bytes(data)
            lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
        (root / "SHA256SUMS").write_text("".join(lines))
        total = size * count
        s3 = aws.client("s3")
        s3.create_bucket(Bucket="bench")

        t = time.perf_counter()
        publish(s3, root, S3Location("bench", "ours/"), part_size=8 * MiB)
        ours_up = time.perf_counter() - t
        t = time.perf_counter()
        fetch(s3, S3Location("bench", "ours/"), Path(tmp) / "ours")
        ours_down = time.perf_counter() - t

        t = time.perf_counter()
        for i in range(1, count + 1):
            s3.upload_file(str(root / f"payload.7z.{i:03d}"), "bench", f"ref/payload.7z.{i:03d}")
        ref_up = time.perf_counter() - t
        (Path(tmp) / "ref").mkdir()
        t = time.perf_counter()
        for i in range(1, count + 1):
            s3.download_file("bench", f"ref/payload.7z.{i:03d}", str(Path(tmp) / "ref" / f"payload.7z.{i:03d}"))
        ref_down = time.perf_counter() - t

    print(f"bundle: {count} volumes x {size} MiB = {total} MiB, moto S3 on 127.0.0.1")
    print(f"{'':10} {'ours':>12} {'boto3 ref':>12} {'ratio':>7}")
    for what, ours, ref in (("publish", ours_up, ref_up), ("fetch", ours_down, ref_down)):
        print(f"{what:10} {total / ours:9.1f} MiB/s {total / ref:9.1f} MiB/s {ref / ours:6.2f}x")


if __name__ == "__main__":
    main()
