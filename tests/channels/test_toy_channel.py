"""A channel added by the test suite alone works end to end: config, JSON Schema, settings, delivery, errors."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import jsonschema
import pytest
import yaml

from engine import notify as notify_module, tickets
from channels import register_channels
from engine.catalog.json_schema import schema_texts
from engine.channel_registry import ChannelRegistry
from engine.delivery import process
from engine.errors import NotFound
from engine.settings import PROJECT_ROOT
from engine.store.models import Delivery, NotificationPreference, Ticket
from run import main
from tests.channels.conftest import TOY_MODULE
from tests.channels.toy_channel import TOY_MAX
from tests.waiting import HANG_CAP, wait_for
from tests.web.helpers import chat_problem, make_ticket

REPLY = "Проверили: рассылка снова работает. " * 10  # longer than the toy channel takes in one message


def _config_check(config_dir, **env) -> subprocess.CompletedProcess:
    """`run.py config check` in its own process, as an operator runs it."""
    return subprocess.run([sys.executable, str(PROJECT_ROOT / "run.py"), "config", "check", "--config", str(config_dir)],
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env}, capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=HANG_CAP)


def test_a_binding_passes_config_check_where_the_channel_is_installed(config_dir):
    """HELPDESK_CHANNELS installs the toy channel in a process; without it its binding is an unknown kind."""
    installed = _config_check(config_dir, HELPDESK_CHANNELS=TOY_MODULE)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert installed.stdout.splitlines()[-1].startswith("OK: ")  # after the shipped config's lint warnings
    missing = _config_check(config_dir, HELPDESK_CHANNELS="")
    assert missing.returncode == 1
    assert re.search(r"channels\.yaml:\d+: channels\.hook\.kind: must be 'web', 'email' or 'telegram', got 'toy'\n",
                     missing.stdout), missing.stdout


def test_config_check_knows_the_toy_binding_keys(config_dir, capsys):
    """A key of another kind in a toy binding is an error naming the toy kind's own keys."""
    path = config_dir / "notifications" / "channels.yaml"
    channels = yaml.safe_load(path.read_text(encoding="utf-8"))
    channels["channels"]["hook"]["token_env"] = "TOY_TOKEN"
    path.write_text(yaml.safe_dump(channels, allow_unicode=True), encoding="utf-8")
    assert main(["config", "check", "--config", str(config_dir)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"channels\.yaml:\d+: channels\.hook\.token_env: unknown key \((did you mean 'url_env'|allowed: [^)]*url_env)", out), out


def test_the_json_schema_has_the_toy_kind_and_template(config_dir):
    """The published schemas describe the toy binding's keys and the toy template; the test config validates."""
    schemas = {name: json.loads(text) for name, text in schema_texts().items()}
    channels = schemas["channels.schema.json"]
    toy = channels["$defs"]["ToyBinding"]
    assert toy["properties"]["kind"]["const"] == "toy" and "url_env" in toy["properties"] and "url_env" in toy["required"]
    assert "ToyBinding" in json.dumps(channels["properties"]["channels"])
    templates = schemas["notification-types.schema.json"]["$defs"]["Templates"]["properties"]
    assert "toy" in templates
    for name, rel in (("channels.schema.json", "channels.yaml"), ("notification-types.schema.json", "types.yaml")):
        data = yaml.safe_load((config_dir / "notifications" / rel).read_text(encoding="utf-8"))
        jsonschema.validate(data, schemas[name])


def test_the_published_schemas_do_not_change_with_the_toy_channel(toy_installed):
    """Only the installed channels are published: the toy kind exists in this test's process alone."""
    shipped = ChannelRegistry()
    register_channels(shipped, env={})
    assert "ToyBinding" not in schema_texts(shipped.all())["channels.schema.json"]
    assert "ToyBinding" in schema_texts()["channels.schema.json"]


def test_the_customer_switches_the_toy_channel_on_in_the_settings_matrix(rt, as_role, users):
    """The settings matrix has a toy column (named by the binding's title) that saves like the others."""
    client = as_role("customer")
    page = client.get("/settings").get_data(as_text=True)
    assert re.search(r'<th scope="col" id="ch-toy">Тестовый канал</th>', page)
    assert 'name="pref:support_reply:toy"' in page
    assert not re.search(r'name="pref:support_reply:toy"[^>]*checked', page)
    assert client.post("/settings", {"pref:support_reply:web": "on", "pref:support_reply:toy": "on"}).status_code == 303
    assert re.search(r'name="pref:support_reply:toy"[^>]*checked', client.get("/settings").get_data(as_text=True))
    assert notify_module.preferences(rt.catalog, users["customer"])["support_reply"]["toy"] is True


def _toy_on(user) -> None:
    NotificationPreference.create(user=user, type_id="support_reply", channel="toy", enabled=True)


def test_a_staff_reply_is_delivered_by_a_worker_process(rt, as_role, users, workers, endpoint):
    """The agent's reply makes a toy Delivery; `run.py worker` with HELPDESK_CHANNELS sends it to the endpoint."""
    _toy_on(users["customer"])
    ticket = make_ticket(rt, users["customer"])
    agent = as_role("agent")
    assert agent.post(f"/agent/tickets/{ticket.number}/reply", {"message": REPLY}).status_code == 303
    delivery = Delivery.get(Delivery.channel == "toy")
    assert delivery.target == "anna@example.com"
    workers.start("--sweep-every", "0.5", HELPDESK_CHANNELS=TOY_MODULE)
    wait_for(lambda: Delivery.get_by_id(delivery.id).status == "sent", HANG_CAP, message="the toy delivery sent")
    [message] = endpoint.received
    assert message["to"] == "anna@example.com" and message["delivery"] == delivery.id
    assert message["text"].startswith(f"Ответ по заявке №{ticket.number}: Проверили")
    assert len(message["text"]) == TOY_MAX and message["text"].endswith("…")


def _toy_delivery(rt, users) -> Delivery:
    _toy_on(users["customer"])
    ticket = make_ticket(rt, users["customer"])
    tickets.add_reply(rt, Ticket.get_by_id(ticket.id), users["agent"], "Готово.", [], "web")
    return Delivery.get(Delivery.channel == "toy")


def test_a_permanent_error_fails_the_delivery(rt, users, endpoint):
    """The endpoint answering 410 is the toy sender's PermanentDeliveryError: failed at once, the reason kept."""
    delivery = _toy_delivery(rt, users)
    endpoint.replies = [(410, {})]
    assert process(rt, delivery.id) == "failed"
    row = Delivery.get_by_id(delivery.id)
    assert (row.status, row.attempts) == ("failed", 1) and row.last_error.startswith("toy 410")
    assert endpoint.received == []


def test_a_temporary_error_is_retried_with_backoff(rt, users, endpoint):
    """A 503 is a TemporaryDeliveryError: the row waits for its next attempt, which then sends it."""
    delivery = _toy_delivery(rt, users)
    endpoint.replies = [(503, {})]
    before = rt.clock()
    assert process(rt, delivery.id, now=before) == "retry"
    row = Delivery.get_by_id(delivery.id)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "toy 503")
    assert (row.next_attempt_at - before).total_seconds() >= rt.catalog.policies.delivery.retry_backoff[0]
    assert process(rt, delivery.id, now=row.next_attempt_at) == "sent"
    assert [m["delivery"] for m in endpoint.received] == [delivery.id]


def test_retry_after_waits_as_told_without_spending_an_attempt(rt, users, endpoint):
    """A 429 with Retry-After: the toy sender's retry_after postpones the row by that long, attempts unchanged."""
    delivery = _toy_delivery(rt, users)
    endpoint.replies = [(429, {"Retry-After": "7"})]
    before = rt.clock()
    assert process(rt, delivery.id, now=before) == "retry"
    row = Delivery.get_by_id(delivery.id)
    assert (row.status, row.attempts) == ("pending", 0)
    assert 7 <= (row.next_attempt_at - before).total_seconds() < 7 + HANG_CAP


def test_a_topic_is_offered_only_on_the_channels_it_lists(rt, users):
    """An installed channel that takes no tickets is not among a topic's default channels: a ticket through it is refused."""
    assert "toy" not in rt.catalog.topic("chats/chat-problem").channels
    with pytest.raises(NotFound):
        tickets.create_ticket(rt, users["customer"], "chats/chat-problem", chat_problem(), [], "toy")
    assert make_ticket(rt, users["customer"]).channel == "web"


def test_the_toy_channel_uses_no_engine_edits():
    """Nothing under engine/ names the toy channel: it is installed from the test suite alone."""
    engine_files = (PROJECT_ROOT / "engine").rglob("*.py")
    assert not [p for p in engine_files if re.search(r"\btoy\b", p.read_text(encoding="utf-8"), re.I)]
