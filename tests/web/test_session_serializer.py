"""The session serializer's plain-JSON shortcut (web/cookie_sessions.py) writes exactly what Flask's tagged
serializer writes, and leaves whatever Flask tags to it."""
from __future__ import annotations

import datetime
import uuid

import pytest
from flask import Flask
from flask.json.tag import TaggedJSONSerializer
from markupsafe import Markup

from web.cookie_sessions import PlainFirstSerializer

SESSIONS = [
    {"sid": "x" * 43, "_csrf": "y" * 40, "locale": "ru",
     "search": {"q": "бот не отвечает", "offered": ["chats/a", "chats/b"], "at": 1764930000}},
    {"z": 1.5, "a": None, "m": True, "w": [[], {}, [0, -1]]},  # key order, nesting, plain values
    {" t": [1]}, {"a": {" di": "x"}}, {" x": 1},  # one-key dicts whose key is (or is not) a tag's
    {"a": (1, 2)}, {"b": b"bytes"}, {"m": Markup("<b>")}, {"u": uuid.UUID(int=7)},
    {"d": datetime.datetime(2026, 12, 5, tzinfo=datetime.timezone.utc)}, {1: 2},
]


@pytest.mark.parametrize("session", SESSIONS)
def test_a_session_is_written_as_flask_writes_it_and_reads_back(session):
    shortcut, flask_own = PlainFirstSerializer(), TaggedJSONSerializer()
    with Flask(__name__).app_context():
        written = shortcut.dumps(session)
        assert written == flask_own.dumps(session)
        assert shortcut.loads(written) == flask_own.loads(written)
