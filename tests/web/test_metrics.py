"""/metrics for Prometheus: what it reports after real traffic, and who may read it."""
from __future__ import annotations

import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine import delivery
from engine.store.models import Delivery, Ticket
from tests.web.helpers import run_py_web
from tests.web.test_tickets import submit

pytestmark = pytest.mark.postgres  # the scrape-time queries run on both databases

METRICS_TOKEN = "metrics-token-for-tests"
REMOTE = {"REMOTE_ADDR": "203.0.113.9"}


def scrape(client, **kwargs) -> dict[tuple, float]:
    """{(sample name, (sorted label pairs)): value} of one /metrics answer."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_a_ticket_and_its_delivery_show_in_the_metrics(rt, app, as_role, users):
    """Created through the portal: counted by channel; its email delivery is pending (the outbox lag), then skipped
    (SMTP_URL is unset here) and counted by channel and outcome; the HTTP series are labelled by URL rule."""
    customer = as_role("customer")
    assert submit(customer).status_code == 303
    ticket = Ticket.get(Ticket.customer == users["customer"])
    assert customer.get(f"/tickets/{ticket.number}").status_code == 200
    assert customer.get("/no/such/page").status_code == 404
    rows = list(Delivery.select().where(Delivery.channel == "email"))  # the customer's, and the team's (teams.yaml)

    before = scrape(app.test_client())
    assert value(before, "helpdesk_tickets_created_total", channel="web") == 1
    assert value(before, "helpdesk_tickets_open", status="new") == 1
    assert value(before, "helpdesk_outbox_deliveries", channel="email", status="pending") == len(rows) == 3
    assert value(before, "helpdesk_outbox_oldest_age_seconds", ) >= 0
    assert value(before, "helpdesk_queue_jobs", state="queued") >= 1  # enqueued after the commit
    assert value(before, "helpdesk_config_info", version=rt.catalog.version) == 1
    assert value(before, "helpdesk_metrics_source_up", source="database") == 1
    assert value(before, "helpdesk_metrics_source_up", source="redis") == 1
    route = "/tickets/<id:number>"
    assert value(before, "helpdesk_http_requests_total", method="GET", route=route, status="200") == 1
    assert value(before, "helpdesk_http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert value(before, "helpdesk_http_request_duration_seconds_count", method="GET", route=route) == 1
    assert not any(f"/tickets/{ticket.number}" in dict(labels).get("route", "") for _, labels in before)

    assert [delivery.process(rt, row.id) for row in rows] == ["not_configured"] * 3
    after = scrape(app.test_client())
    assert value(after, "helpdesk_delivery_attempts_total", channel="email", outcome="skipped") == 3
    assert value(after, "helpdesk_outbox_deliveries", channel="email", status="skipped") == 3
    assert value(after, "helpdesk_outbox_deliveries", channel="email", status="pending") is None
    assert value(after, "helpdesk_outbox_oldest_age_seconds") == 0


def test_the_outbox_lag_is_the_age_of_the_oldest_undelivered_row(rt, app, users):
    from engine.store.models import Notification

    note = Notification.create(user=users["customer"], type_id="support_reply", params={})
    created = rt.clock().replace(microsecond=0)
    Delivery.create(notification=note, channel="email", target="a@example.com", created_at=created.replace(year=2000))
    Delivery.create(notification=note, channel="telegram", target="support_bot:1", status="sending", created_at=created)
    lag = value(scrape(app.test_client()), "helpdesk_outbox_oldest_age_seconds")
    assert lag >= (created - created.replace(year=2000)).total_seconds()


def test_counts_are_capped(rt, app, users):
    from engine.store.models import Notification

    note = Notification.create(user=users["customer"], type_id="support_reply", params={})
    for n in range(5):
        Delivery.create(notification=note, channel="email", target=f"{n}@example.com", status="failed")
        Delivery.create(notification=note, channel="telegram", target=f"support_bot:{n}", status="pending")
    collector = app.extensions["helpdesk_metrics"].state
    collector.cap, collector.final_cap = 4, 3  # pending and sending; failed and skipped
    samples = scrape(app.test_client())
    assert value(samples, "helpdesk_outbox_deliveries", channel="email", status="failed") == 3
    assert value(samples, "helpdesk_outbox_deliveries", channel="telegram", status="pending") == 4


def test_a_remote_client_needs_the_token(rt, app, settings):
    client = app.test_client()
    assert client.get("/metrics", environ_base=REMOTE).status_code == 403
    rt.settings = settings.with_overrides(env={"METRICS_TOKEN": METRICS_TOKEN})
    assert client.get("/metrics", environ_base=REMOTE).status_code == 403
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.get("/metrics", environ_base=REMOTE, headers=wrong).status_code == 403
    right = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert "helpdesk_config_info" in client.get("/metrics", environ_base=REMOTE, headers=right).get_data(as_text=True)


def test_loopback_through_a_proxy_needs_the_token(app):
    """nginx on the same host connects from 127.0.0.1 for every outside client: a forwarded request is not local."""
    client = app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    assert client.get("/metrics", headers={"X-Real-IP": "203.0.113.9"}).status_code == 403


def test_a_scrape_answers_without_redis(settings, tmp_path):
    """Redis gone: the database series are still served and the Redis source reads 0, quickly."""
    from redis import Redis

    from engine.runtime import start_runtime
    from engine.store.migrations import upgrade
    from web import create_app

    rt = start_runtime(settings, redis=Redis(unix_socket_path=str(tmp_path / "no-redis.sock")))
    upgrade(rt.db)
    client = create_app(runtime=rt, overrides={"TESTING": True}).test_client()
    started = time.monotonic()
    samples = scrape(client)
    assert time.monotonic() - started < 5
    assert value(samples, "helpdesk_metrics_source_up", source="redis") == 0
    assert value(samples, "helpdesk_metrics_source_up", source="database") == 1
    assert value(samples, "helpdesk_tickets_open", status="new") == 0


def test_request_ids_are_echoed_kept_when_sane_and_made_otherwise(app):
    client = app.test_client()
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/healthz").headers["X-Request-ID"]
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.2"}).headers["X-Request-ID"] == "lb-7f3a.2"
    for hostile in ("two words", "x" * 200, "a\tb", "<script>", "ид"):
        echoed = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert echoed != hostile and len(echoed) == 32


def test_reloads_and_live_processes_are_counted(rt, app, as_role):
    """A reload from the admin page is counted; a process with a heartbeat is counted by role and config version."""
    from engine.liveness import start_heartbeat

    assert as_role("admin").post("/admin/reload").status_code == 200
    heartbeat = start_heartbeat(rt, "bot", detail="support_bot")
    try:
        samples = scrape(app.test_client())
        assert value(samples, "helpdesk_config_reloads_total", result="ok") == 1
        assert value(samples, "helpdesk_live_processes", role="bot", version=rt.catalog.version) == 1
        ages = [v for (name, labels), v in samples.items() if name == "helpdesk_process_heartbeat_age_seconds"
                and dict(labels)["role"] == "bot"]
        assert len(ages) == 1 and 0 <= ages[0] < 60
    finally:
        heartbeat.stop()
    assert value(scrape(app.test_client()), "helpdesk_live_processes", role="bot", version=rt.catalog.version) is None


def test_several_processes_behind_one_port_share_their_http_series(tmp_path, redis, rt, settings):
    """PROMETHEUS_MULTIPROC_DIR: `run.py web` writes its HTTP series to the shared folder and a scrape reads them
    from there (the per-process process_* series are left out: summed they would mean nothing)."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    with run_py_web(settings, redis, PROMETHEUS_MULTIPROC_DIR=str(shared)) as (_, url):
        urllib.request.urlopen(f"{url}/login", timeout=10).close()
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
            text = response.read().decode()
    assert 'helpdesk_http_requests_total{method="GET",route="/login",status="200"} 1.0' in text
    assert "process_resident_memory_bytes" not in text and "helpdesk_outbox_oldest_age_seconds 0.0" in text
    assert list(shared.glob("*.db"))  # the values live in the shared folder
