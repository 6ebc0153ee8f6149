"""The web app for a WSGI server other than `run.py web` (e.g. `gunicorn 'app.wsgi:create_app()'`)."""
from __future__ import annotations

from flask import Flask

from channels import ensure_channels
from web import create_app as create_web_app


def create_app(**kwargs) -> Flask:
    """Register the installed channels, as run.py does at a process's start, then build the web app."""
    ensure_channels()
    return create_web_app(**kwargs)
