"""parse_duration: the config's duration strings."""
from datetime import timedelta

import pytest

from engine.catalog.durations import parse_duration


@pytest.mark.parametrize("text, expected", [
    ("30s", timedelta(seconds=30)),
    ("15m", timedelta(minutes=15)),
    ("36h", timedelta(hours=36)),
    ("2d", timedelta(days=2)),
    ("2 d", timedelta(days=2)),
    ("0s", timedelta(0)),
])
def test_parse_duration(text, expected):
    """Each unit turns into the matching timedelta."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "d", "2w", "-1d", "1.5h", "2dd"])
def test_parse_duration_rejects(text):
    """Anything but digits and one unit is refused with a readable message."""
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)
