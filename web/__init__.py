"""The web edge: Flask app factory, blueprints (portal, agent, admin, auth), Jinja templates, htmx fragments."""
from web.app import create_app

__all__ = ["create_app"]
