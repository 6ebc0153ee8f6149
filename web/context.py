"""Per-request state: the Runtime, one catalog snapshot, the signed-in user and the UI locale; the `t` helper."""
from __future__ import annotations

from functools import partial

from flask import Flask, Request, current_app, g, session
from jinja2 import pass_context
from peewee import SqliteDatabase

from engine import notify, sessions
from engine.catalog import Catalog
from engine.catalog.messages import localize, translate
from engine.catalog.texts import LocalText
from engine.form_session import reply_fields
from engine.local_time import format_time, viewer_zone
from engine.runtime import Runtime
from engine.store.models import User

LOCALES = ("ru", "en")


_current_app = current_app._get_current_object  # the app without the proxy's per-attribute lookup


def runtime() -> Runtime:
    return _current_app().extensions["helpdesk_runtime"]


# The per-request values below are read from `g` with one lookup when set (a page asks for them dozens of times),
# bound once per call: each attribute read through the `g` proxy costs a proxy lookup.
_request_g = g._get_current_object


def catalog() -> Catalog:
    """The snapshot taken at the start of this request: a reload mid-request never mixes two versions."""
    values = _request_g()
    try:
        return values.catalog
    except AttributeError:
        values.catalog = runtime().catalog
        return values.catalog


def current_user() -> User | None:
    """The user of this request's live server-side session (one query); an ended session's token is dropped."""
    values = _request_g()
    try:
        return values.user
    except AttributeError:
        pass
    token = session.get("sid")
    values.user = sessions.session_user(token, catalog().policies.sessions, cache=runtime().cache) if token else None
    if token and values.user is None:
        session.pop("sid")
    return values.user


def locale() -> str:
    """The UI language: the session's switch, else the user's, else the catalog's default (once per request)."""
    values = _request_g()
    try:
        return values.locale
    except AttributeError:
        pass
    chosen = session.get("locale")
    user = current_user()
    if chosen not in LOCALES:
        chosen = user.locale if user is not None and user.locale in LOCALES else catalog().policies.default_locale
    values.locale = chosen
    return chosen


def time_zone() -> str:
    """The zone this request's times are shown in: the user's setting, else `policies.time_zone` (once per request)."""
    values = _request_g()
    try:
        return values.time_zone
    except AttributeError:
        values.time_zone = viewer_zone(current_user(), catalog().policies)
        return values.time_zone


def local_time(value, date: bool = True) -> str:
    """The `local_time` filter: a stored time in the viewer's zone, labelled (engine.local_time.format_time)."""
    return format_time(value, time_zone(), locale(), date)


def t(key: str, **params) -> str:
    """A web UI text from the catalog in the current locale."""
    return catalog().text(locale(), "web", key, **params)


def config_error(error) -> str:
    """A config error or warning (`file:line: key.path: message`) in the current locale."""
    return localize(error, locale())


def config_line(text: str) -> str:
    """A stored English line about the config (a version's summary) in the current locale."""
    return translate(text, locale())


def channel_title(kind: str) -> str:
    """A channel kind's name for people: the UI text `web.channel_<kind>`, else the title of its first binding
    (a channel installed without texts of its own), else the kind."""
    try:
        return t(f"channel_{kind}")
    except KeyError:
        binding = next(iter(catalog().bindings(kind=kind).values()), None)
        return (binding.title if binding is not None else None) or kind


def validation_text(key: str, **params) -> str:
    """A validation message from the catalog, as the engine words it (the browser's checks repeat them)."""
    return catalog().text(locale(), "validation", key, **params)


def reply_files():
    """The files a reply takes and their limits (engine.form_session.reply_fields, as the engine checks them)."""
    return reply_fields(catalog())[1]


def begin(rt: Runtime, request: Request, g) -> Catalog:
    """Per request (web.request_hooks): the database connection (except for the probes and /metrics) and the
    request's catalog snapshot (`catalog()`), returned."""
    if request.blueprint not in ("health", "metrics"):  # they report a database that cannot connect, not fail on it
        rt.db.connect(reuse_if_open=True)
    if "catalog" not in g:
        g.catalog = rt.catalog
    return g.catalog


def close_db(rt: Runtime) -> None:
    """At a request's teardown: a server database's connection goes back (SQLite's stays with its thread)."""
    db = rt.db
    # A SQLite file connection stays with its server thread: reopening it (and its PRAGMAs) per request
    # cost two thirds of a page's time. Server databases give the connection back after every request.
    if not isinstance(db, SqliteDatabase) and not db.is_closed() and not db.in_transaction():
        db.close()


def init_app(app: Flask) -> None:
    """Give templates the catalog, user and `t` (web.request_hooks opens and closes the database per request)."""

    app.jinja_env.globals["t"] = t  # a global, so imported macros see it too
    app.jinja_env.globals["validation_text"] = validation_text
    app.jinja_env.globals["reply_files"] = reply_files
    app.jinja_env.globals["channel_title"] = channel_title
    app.jinja_env.globals["config_error"] = config_error
    app.jinja_env.globals["config_line"] = config_line
    app.jinja_env.filters["local_time"] = local_time
    # Every {{ value }} of the catalog written in several languages shows in the request's locale (the template
    # context's copy when it has one: macros imported without context ask the request).
    app.jinja_env.finalize = pass_context(
        lambda ctx, value: value.in_(ctx.get("locale") or locale()) if isinstance(value, LocalText) else value)

    @app.context_processor
    def _globals() -> dict:
        snapshot, chosen = catalog(), locale()
        # A template's own `t`, bound to this request's catalog and locale (the global one asks the request each time;
        # macros imported without context still use it).
        return {"catalog": snapshot, "current_user": current_user(), "locale": chosen, "LOCALES": LOCALES,
                "unread_count": _unread_count, "t": partial(snapshot.text, chosen, "web")}


def _unread_count() -> int:
    """Unread in-app notifications of the signed-in user, for the header badge (queried only when rendered)."""
    user = current_user()
    return notify.unread_count(user, runtime().cache) if user is not None else 0
