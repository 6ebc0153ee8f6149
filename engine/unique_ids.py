"""Ids unique across processes and time, not secrets: this process's random part and a counter (32 hex digits).

`secrets`/`uuid4` read the OS's random source for every id, a system call that lets go of the GIL: under a
threaded server the request then waits its turn to get it back. A forked process draws a new random part.
"""
from __future__ import annotations

import itertools
import os
import secrets

_process = secrets.token_hex(8)
_counter = itertools.count(1)


def _new_process_part() -> None:
    global _process
    _process = secrets.token_hex(8)


os.register_at_fork(after_in_child=_new_process_part)


def unique_id() -> str:
    """A new id: 16 hex digits of this process's random part, 16 of its counter."""
    return f"{_process}{next(_counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"
