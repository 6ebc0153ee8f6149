"""Attachment store: put + read back of a 1 MB file, local folder vs S3 (a moto_server on loopback), as a ratio.

Run: python benchmarks/bench_storage.py [--size-mb 1] [--files 30] [--rounds 3]
Each file is new content (a new key), so the local store really writes (temp file, fsync, rename) and S3 really
uploads; each is then read back whole through `open()` (the stream the web download sends). moto keeps objects in
memory and runs on the same 2 cores, so the S3 figure is the client's and protocol's cost, not a real network's.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.blobstore import LocalBlobStore  # noqa: E402
from tests.storage.moto import MotoServer  # noqa: E402


def round_trip(store, payloads: list[bytes]) -> float:
    """Seconds per file for put then a full streamed read."""
    start = time.perf_counter()
    for data in payloads:
        key = store.put(data)
        with store.open(key) as blob:
            while blob.stream.read(256 * 1024):
                pass
    return (time.perf_counter() - start) / len(payloads)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = int(args.size_mb * 1024 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        server = MotoServer(Path(tmp) / "moto.log").start()
        try:
            local = LocalBlobStore(Path(tmp) / "attachments")
            s3 = server.store(server.create_bucket(), prefix="bench")
            round_trip(s3, [os.urandom(1024)])  # connection set up, outside the figures
            times = {"local": [], "s3": []}
            for _ in range(args.rounds):
                for name, store in (("local", local), ("s3", s3)):
                    times[name].append(round_trip(store, [os.urandom(size) for _ in range(args.files)]))
        finally:
            server.stop()
    local_ms, s3_ms = (statistics.median(times[k]) * 1000 for k in ("local", "s3"))
    print(f"{args.size_mb:g} MB file, put + streamed read, median of {args.rounds} rounds x {args.files} files")
    print(f"  local folder: {local_ms:7.1f} ms/file  ({args.size_mb / local_ms * 1000:6.1f} MB/s put+read)")
    print(f"  S3 (moto):    {s3_ms:7.1f} ms/file  ({args.size_mb / s3_ms * 1000:6.1f} MB/s put+read)")
    print(f"  S3 / local:   {s3_ms / local_ms:.1f}x")


if __name__ == "__main__":
    main()
