"""The 30,000 passwords seen most often in leaks (the list the zxcvbn package ships), for
`policies.passwords.not_common`."""
from __future__ import annotations

from functools import cache


@cache
def _leaked() -> frozenset[str]:
    # Imported on the first check, not at a process's start: zxcvbn builds all its word lists on import.
    from zxcvbn.matching import RANKED_DICTIONARIES

    return frozenset(RANKED_DICTIONARIES["passwords"])


def is_common(password: str) -> bool:
    """Whether the password (ignoring case) is on the leaked-passwords list."""
    return password.lower() in _leaked()
