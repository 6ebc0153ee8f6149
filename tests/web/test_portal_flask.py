"""The app class's shortcuts (web/portal_flask.py): remembered route matches route as werkzeug does (per-request
arguments, failures and redirects raised afresh, a rule added later seen); only plain functions skip Flask's
coroutine check."""
from __future__ import annotations

from flask import request

from web.converters import IdConverter
from web.portal_flask import PortalFlask


def _app() -> PortalFlask:
    app = PortalFlask(__name__)
    app.url_map.converters["id"] = IdConverter

    @app.get("/items/<id:number>")
    def item(number):
        request.view_args["number"] = -1  # a view changing its own arguments changes no later request's
        return f"item {number}"

    @app.route("/old/<id:number>", redirect_to="/items/<number>")
    def old(number):  # pragma: no cover - redirected before the view
        return ""

    @app.get("/folder/")
    def folder():
        return "folder"
    return app


def test_a_remembered_match_routes_each_request_with_its_own_arguments():
    client = _app().test_client()
    for _ in range(5):
        assert client.get("/items/7").get_data(as_text=True) == "item 7"
    assert client.get("/items/8").get_data(as_text=True) == "item 8"
    assert client.get("/items/0").status_code == 404  # the converter refuses it every time
    assert client.get("/items/0").status_code == 404


def test_failures_and_redirects_are_raised_every_time():
    client = _app().test_client()
    for _ in range(2):
        assert client.post("/items/7").status_code == 405
        assert client.get("/nothing").status_code == 404
        assert client.get("/old/5").headers["Location"].endswith("/items/5")
        assert client.get("/folder").headers["Location"].endswith("/folder/")  # strict slashes
        assert client.get("/folder/").get_data(as_text=True) == "folder"


def test_a_rule_added_after_a_match_is_routed():
    app = _app()
    with app.test_request_context("/items/7"):
        assert request.url_rule.rule == "/items/<id:number>"
    app.add_url_rule("/items/7", "seven", lambda: "the seventh")  # a static rule wins over the converter's
    with app.test_request_context("/items/7"):
        assert request.url_rule.rule == "/items/7"


def test_plain_functions_run_as_they_are_and_coroutines_still_go_to_flask():
    app = _app()

    def plain():
        return "plain"

    async def coroutine():  # pragma: no cover - never awaited here
        return "async"
    assert app.ensure_sync(plain) is plain
    try:
        wrapped = app.ensure_sync(coroutine)
    except RuntimeError as exc:  # Flask without its async extra says so, as it would without the shortcut
        assert "async" in str(exc)
    else:
        assert wrapped is not coroutine
