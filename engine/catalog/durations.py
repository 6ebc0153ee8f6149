"""Durations written in the config ("30s", "15m", "36h", "2d") as timedeltas."""
from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


@lru_cache(maxsize=1024)  # every signed-in request checks its session's two lifetimes
def parse_duration(text: str) -> timedelta:
    """Turn '2d' / '36h' / '15m' / '30s' into a timedelta; raise ValueError on anything else."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"invalid duration {text!r}: use a number and one of s, m, h, d (e.g. 2d)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
