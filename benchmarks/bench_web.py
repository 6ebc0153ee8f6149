"""Requests/s of the topic form page and of ticket submission vs a bare Flask page with a comparable template.

Plain script: `python benchmarks/bench_web.py [--seconds 3]`. Everything runs in-process through Flask's test
client (no network), on a fresh SQLite file and an embedded Redis, so the ratios show what the app itself costs.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, render_template, request  # noqa: E402
from jinja2 import DictLoader  # noqa: E402

from channels import register_channels  # noqa: E402
from engine import accounts  # noqa: E402
from engine.redis_conn import stop_embedded_redis  # noqa: E402
from engine.runtime import start_runtime  # noqa: E402
from engine.settings import PROJECT_ROOT, Settings  # noqa: E402
from engine.store.models import ALL_MODELS  # noqa: E402
from web import create_app  # noqa: E402

register_channels()  # as run.py does at a process's start

TOPIC_URL = "/c/chats/chat-problem"
VALUES = {"account_id": "12345", "chat_id": "chat-1", "channel": "Telegram", "subject": "Бот молчит",
          "message": "После обновления бот не отвечает в Telegram."}

# A page of the same shape as the topic form: layout, a header, eight labelled fields with help, no app logic.
BARE_TEMPLATE = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/app.css"></head><body><header><a href="/">{{ brand }}</a>
<nav>{% for item in nav %}<a href="{{ item }}">{{ item }}</a>{% endfor %}</nav></header><main>
<h1>{{ title }}</h1><p>{{ description }}</p><form method="post" enctype="multipart/form-data">
{% for f in fields %}<div class="field" id="fw-{{ f.id }}"><label for="f-{{ f.id }}">{{ f.label }}</label>
<input id="f-{{ f.id }}" name="{{ f.id }}" value="{{ values.get(f.id, '') }}" placeholder="{{ f.placeholder }}">
<p id="err-{{ f.id }}"></p><details><summary>?</summary><p>{{ f.help }}</p></details></div>{% endfor %}
<button type="submit">{{ submit }}</button></form></main></body></html>"""


def bare_app(fields) -> Flask:
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"page.html": BARE_TEMPLATE})  # compiled once and cached, like our templates

    @app.get("/")
    def page():
        return render_template("page.html", title="Проблема с чатами", brand="Служба поддержки",
                                      nav=["/", "/tickets", "/tickets/archive", "/settings", "/notifications"],
                                      description="Разбор ошибок", fields=fields, values=request.args, submit="Создать")

    return app


def measure(cases: dict, seconds: float, rounds: int = 5) -> dict[str, float]:
    """Requests/s of each case, interleaved in short rounds so a busy machine slows all cases alike."""
    done = {name: 0 for name in cases}
    spent = {name: 0.0 for name in cases}
    for name, call in cases.items():
        for i in range(5):  # warm-up: templates compiled, caches filled
            call(i)
    for _ in range(rounds):
        for name, call in cases.items():
            started = time.perf_counter()
            while time.perf_counter() - started < seconds / rounds:
                call(done[name])
                done[name] += 1
            spent[name] += time.perf_counter() - started
    for name in cases:
        print(f"{name:<42} {done[name] / spent[name]:9.1f} req/s  ({done[name]} requests)")
    return {name: done[name] / spent[name] for name in cases}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per case")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-web-"))
    shutil.copytree(PROJECT_ROOT / "config", workdir / "config")
    rt = start_runtime(Settings(config_dir=workdir / "config", data_dir=workdir / "data", secret_key="bench", env={}))
    try:
        rt.db.create_tables(ALL_MODELS)
        customer = accounts.create_user("bench@example.com", "bench-password-1")
        app = create_app(runtime=rt)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"email": customer.email, "password": "bench-password-1", "_csrf": token})
        page = client.get(TOPIC_URL).get_data(as_text=True)
        token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        fields = [f for f in rt.catalog.form_for(rt.catalog.topic("chats/chat-problem")).fields]
        bare = bare_app(fields).test_client()

        def get_topic(_):
            assert client.get(TOPIC_URL).status_code == 200

        def submit(i):
            data = {**VALUES, "_csrf": token, "_idem": f"bench-{i:012d}-{time.monotonic_ns()}"}
            assert client.post(TOPIC_URL, data=data).status_code == 303

        def get_bare(_):
            assert bare.get("/").status_code == 200

        print(f"bench_web: {args.seconds:g} s per case in 5 interleaved rounds, Flask test client, SQLite + embedded Redis")
        rates = measure({"bare Flask page, comparable template": get_bare, "topic form page (GET)": get_topic,
                         "ticket submission (POST -> 303)": submit}, args.seconds)
        baseline, topic, created = rates.values()
        print(f"ratio topic page / bare page: {topic / baseline:.3f}")
        print(f"ratio ticket submission / bare page: {created / baseline:.3f}")
    finally:
        rt.db.close()
        stop_embedded_redis(rt.redis)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
