"""base.html's shell rendered once per key and filled in (web/page_shell.py) equals a plain render; reloads show."""
from __future__ import annotations

import re

from markupsafe import Markup

from engine import accounts, tickets
from tests.web.conftest import PASSWORD, WebClient
from tests.web.helpers import TOPIC_URL, make_ticket
from web import page_shell


def _plain(_key, printed, render):
    """The shell rendered with this request's values in place (Jinja escaping them), nothing remembered."""
    return tuple(Markup(part) for part in page_shell.blocks(render(lambda n: printed[n])))


def test_a_filled_shell_equals_a_plain_render(app, rt, users, as_role, monkeypatch):
    ticket = make_ticket(rt, users["customer"])
    accounts.create_user("new@example.com", PASSWORD, name='<b>"Ново" & \'Co\'</b>', verified=False)
    unconfirmed = WebClient(app.test_client())
    assert unconfirmed.login("new@example.com").status_code == 303
    english = as_role("other")
    english.post("/locale", {"locale": "en", "next": "/"})
    customer, agent, anonymous = as_role("customer"), as_role("agent"), WebClient(app.test_client())
    visits = [  # (client, path): roles, both locales, the banner, a path and a name with characters to escape
        (customer, "/"), (customer, TOPIC_URL), (customer, f"/tickets/{ticket.number}"), (customer, "/notifications"),
        (customer, '/tickets?q=<a href="x">&b=\'1\''), (english, "/"), (english, "/tickets"), (unconfirmed, "/"),
        (unconfirmed, "/tickets?x=1&y=<2>"), (agent, "/agent/"), (agent, f"/agent/tickets/{ticket.number}"),
        (as_role("admin"), "/"), (anonymous, "/login"), (anonymous, "/no-such-page"),
    ]

    def page(client: WebClient, path: str) -> str:  # a form's idempotency key is new on every render
        return re.sub(r'name="_idem" value="[^"]*"', "", client.get(path).get_data(as_text=True))

    for client, path in reversed(visits):  # the shells rendered first with other requests' values
        page(client, path)
    tickets.add_reply(rt, ticket, users["agent"], "Ответ", [], "web")  # an unread notification: a badge with a count
    for client, path in visits:
        filled = page(client, path)
        with monkeypatch.context() as plain:
            plain.setattr(page_shell, "filled", _plain)
            assert filled == page(client, path), path
    assert 'name="next" value="/tickets?q=&lt;a href=&#34;x&#34;&gt;&amp;b=&#39;1&#39;"' in page(*visits[4])
    assert '<span class="who">&lt;b&gt;&#34;Ново&#34; &amp; &#39;Co&#39;&lt;/b&gt;</span>' in page(*visits[7])
    assert "verify-banner" in page(*visits[7]) and 'class="counter"' in page(*visits[0])


def test_a_catalog_reload_and_a_language_switch_show_in_the_shell(as_role, rt, config_dir):
    client = as_role("customer")
    assert "<title>Запросы · Служба поддержки</title>" in client.get("/tickets").get_data(as_text=True)
    (config_dir / "ui").mkdir(exist_ok=True)
    (config_dir / "ui" / "ru.yaml").write_text("locale: ru\nweb:\n  app_name: Наша поддержка\n", encoding="utf-8")
    assert rt.catalogs.reload()
    page = client.get("/tickets").get_data(as_text=True)
    assert "<title>Запросы · Наша поддержка</title>" in page and ">Наша поддержка</a>" in page
    client.post("/locale", {"locale": "en", "next": "/"})
    page = client.get("/tickets").get_data(as_text=True)
    assert '<html lang="en">' in page and "<title>Requests · Support desk</title>" in page and ">Sign out</button>" in page
