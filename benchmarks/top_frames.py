"""The functions a py-spy profile spends its samples in: inclusive and self shares, optionally within one frame.

    python benchmarks/top_frames.py out.txt [--within "handle (channels/telegram/batch.py"] [--top 30]

Reads py-spy's raw format (`record --format raw`: one collapsed stack and its sample count per line).
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")


def function(frame: str) -> str:
    """A frame without its line number: `name (path)`."""
    return _LINE.sub(")", frame.strip())


def stacks(path: Path):
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            yield [function(f) for f in stack.split(";")], int(count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--within", default="", help="count only stacks through a frame containing this text")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    inclusive, own, total = Counter(), Counter(), 0
    for frames, count in stacks(args.profile):
        if args.within:
            starts = [i for i, f in enumerate(frames) if args.within in f]
            if not starts:
                continue
            frames = frames[starts[0]:]
        total += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    print(f"{total} samples{' within ' + args.within if args.within else ''}")
    print("inclusive:")
    for name, count in inclusive.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("self:")
    for name, count in own.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
