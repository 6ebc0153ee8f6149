"""The baselines of bench_web: a bare Flask app with pages, fragments and a submission handler of the portal's shapes.

Pages and fragments: cached Jinja templates of the same shape as the portal's (layout, nav, the same number of
fields, rows or messages), no session, database, CSRF or catalog texts. Submission: the same five rows the portal
writes for a ticket (ticket, first message, status event, notification, outbox delivery) with raw peewee inserts in
one transaction, then one RQ enqueue, then a 303 redirect. Served by bench_web through the test client, and by
waitress or gunicorn: `BARE_DATA=/dir REDIS_URL=... python -m gunicorn 'benchmarks.bare_app:create_app()'`.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, redirect, render_template, request  # noqa: E402
from jinja2 import DictLoader  # noqa: E402
from peewee import SqliteDatabase, fn  # noqa: E402
from redis import Redis  # noqa: E402
from rq import Queue  # noqa: E402

from channels import register_channels  # noqa: E402
from engine.catalog import load_catalog  # noqa: E402
from engine.store.db import SQLITE_PRAGMAS, database  # noqa: E402
from engine.store.models import ALL_MODELS, Delivery, Message, Notification, Ticket, TicketEvent, User  # noqa: E402

FORM_TOPIC = "chats/chat-problem"
FIRST_NUMBER = 10**9  # apart from the portal's numbers when both write to one database
NAV = ["/", "/tickets", "/tickets/archive", "/settings", "/notifications"]
LAYOUT = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/app.css"><script src="/static/htmx.min.js" defer></script></head><body>
<header><a href="/">{{ brand }}</a><nav>{% for item in nav %}<a href="{{ item }}">{{ item }}</a>{% endfor %}</nav>
<form method="post" action="/logout"><button type="submit">Выйти</button></form></header>
<main><h1>{{ title }}</h1>{% block content %}{% endblock %}</main></body></html>"""
FIELD = """<div class="field" id="fw-{{ f.id }}"><label for="f-{{ f.id }}">{{ f.label }}</label>
<input id="f-{{ f.id }}" name="{{ f.id }}" value="{{ values.get(f.id, '') }}" placeholder="{{ f.placeholder or '' }}"
 hx-post="/check/{{ f.id }}" hx-trigger="change" hx-target="#fw-{{ f.id }}">
<p id="err-{{ f.id }}">{{ error or '' }}</p><details><summary>?</summary><p>{{ f.help or '' }}</p></details></div>"""
TEMPLATES = {
    "layout.html": LAYOUT,
    "field.html": FIELD,
    "form.html": """{% extends "layout.html" %}{% block content %}<p>{{ description }}</p>
<form method="post" enctype="multipart/form-data">{% for f in fields %}{% include "field.html" %}{% endfor %}
<button type="submit">Создать</button></form>{% endblock %}""",
    "ticket.html": """{% extends "layout.html" %}{% block content %}<p>{{ ticket.status }} · {{ ticket.created }}</p>
<dl>{% for label, value in ticket.fields %}<dt>{{ label }}</dt><dd>{{ value }}</dd>{% endfor %}</dl>
<ol>{% for m in ticket.messages %}<li><b>{{ m.author }}</b> <time>{{ m.at }}</time><p>{{ m.body }}</p></li>{% endfor %}</ol>
<form method="post" enctype="multipart/form-data"><textarea name="body"></textarea><input type="file" name="files" multiple>
<button type="submit">Отправить</button></form>{% endblock %}""",
    "list.html": """{% extends "layout.html" %}{% block content %}<table><thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}
</tr></thead><tbody>{% for row in rows %}<tr><td><a href="/tickets/{{ row.number }}">#{{ row.number }}</a></td>
{% for cell in row.cells %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>{% endblock %}""",
    "suggestions.html": """<ul>{% for s in suggestions %}<li><a href="/c/{{ s.category }}/{{ s.id }}">{{ s.title }}</a>
<p>{{ s.description }}</p></li>{% endfor %}</ul>""",
}


def create_app(fields=None, rows: int = 10, db=None, queue: Queue | None = None) -> Flask:
    """The bare app; `fields` are the portal form's fields (objects with id, label, placeholder, help).

    Submissions go to `db` and `queue` (the portal's own, in-process) or, in a server of its own, to `bare.sqlite`
    under $BARE_DATA and the queue `bare` on $REDIS_URL."""
    app = Flask(__name__)
    app.jinja_loader = DictLoader(TEMPLATES)  # compiled once and cached, like the portal's templates
    if fields is None:  # a server of its own: the same form's fields, from the config the portal serves
        register_channels()
        catalog = load_catalog(os.environ["HELPDESK_CONFIG"])
        fields = list(catalog.form_for(catalog.topic(FORM_TOPIC)).fields)
    page = {"brand": "Служба поддержки", "nav": NAV}
    table = [{"number": 1000 + n, "cells": [f"Тема обращения {n}", "Чаты", "В работе", "05.12.2026 10:00"]} for n in range(rows)]
    ticket = {"status": "В работе", "created": "05.12.2026 10:00",
              "fields": [(f.label, f"значение {n}") for n, f in enumerate(fields)],
              "messages": [{"author": "Клиент", "at": "05.12.2026 10:00", "body": "После обновления бот не отвечает."},
                           {"author": "Поддержка", "at": "05.12.2026 10:05", "body": "Проверяем, ответим в течение часа."}]}
    suggestions = [{"category": "chats", "id": f"topic-{n}", "title": f"Проблема с чатами {n}",
                    "description": "Чат не работает так, как ожидалось."} for n in range(5)]
    if db is None and os.environ.get("BARE_DATA"):
        db = SqliteDatabase(str(Path(os.environ["BARE_DATA"]) / "bare.sqlite"), pragmas=SQLITE_PRAGMAS, timeout=10)
        database.initialize(db)
        db.create_tables(ALL_MODELS)
        queue = Queue("bare", connection=Redis.from_url(os.environ["REDIS_URL"]))

    @app.get("/form")
    def form():
        return render_template("form.html", title="Проблема с чатами", description="Разбор ошибок", fields=fields,
                               values=request.args, **page)

    @app.get("/ticket")
    def ticket_page():
        return render_template("ticket.html", title="Бот молчит", ticket=ticket, **page)

    @app.get("/list")
    def list_page():
        return render_template("list.html", title="Мои обращения", columns=["№", "Тема", "Раздел", "Статус", "Обновлено"],
                               rows=table, **page)

    @app.get("/queue")
    def queue_page():
        return render_template("list.html", title="Очередь", rows=table,
                               columns=["№", "Тема", "Клиент", "Раздел", "Приоритет", "Статус", "Обновлено"], **page)

    @app.post("/check/<field_id>")
    def check(field_id):
        field = next(f for f in fields if f.id == field_id)
        return render_template("field.html", f=field, values=request.form, error=None)

    @app.get("/suggest")
    def suggest():
        return render_template("suggestions.html", phrase=request.args.get("q", ""), suggestions=suggestions)

    @app.post("/submit")
    def submit():
        values = {key: value for key, value in request.form.items() if not key.startswith("_")}
        with db.atomic(lock_type="IMMEDIATE"):  # as the portal's SQLite transactions
            customer, _ = User.get_or_create(email="bare@example.com", defaults={"password_hash": ""})
            number = (Ticket.select(fn.MAX(Ticket.number)).where(Ticket.number >= FIRST_NUMBER).scalar() or FIRST_NUMBER) + 1
            ticket = Ticket.create(number=number, customer=customer, category_id="chats", topic_id="chat-problem",
                                   priority="normal", status="new", subject=values.get("subject", ""), channel="web",
                                   snapshot={"topic_title": "Проблема с чатами"}, fields=values)
            Message.create(ticket=ticket, author=customer, author_kind="customer", channel="web", body=values.get("message", ""))
            TicketEvent.create(ticket=ticket, actor=customer, kind="status", new="new", reason="created")
            notification = Notification.create(user=customer, type_id="ticket_created", ticket=ticket,
                                               params={"ticket_number": number, "subject": ticket.subject})
            delivery = Delivery.create(notification=notification, channel="email", target=customer.email)
        queue.enqueue("engine.jobs.deliver", delivery.id, job_id=f"bare-{delivery.id}")
        return redirect(f"/tickets/{number}", 303)

    return app

