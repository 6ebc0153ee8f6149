"""One log setup for every process: role and request id on every line, JSON lines on demand, an access log that
stays quiet for probes, secrets redacted whatever the format."""
from __future__ import annotations

import io
import json
import logging
import re
import urllib.request

from engine import logformat
from engine.liveness import live_processes
from engine.logsafe import MARKER, configure_logging, install_redaction, redact
from tests.web.helpers import run_py_web

SECRET = "billing-token-value-42"


def json_logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    """A logger writing JSON lines into a buffer (propagation off: only our handler sees its records)."""
    logformat.install_context(logformat.role_for(None))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logformat.make_formatter("json", redact))
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate, logger.level = False, logging.DEBUG
    return logger, stream


def test_json_lines_redact_secrets_in_messages_exceptions_and_extras():
    install_redaction({"BILLING_TOKEN": SECRET})
    log, stream = json_logger("tests.json.redaction")
    log.info("token %s in a message", SECRET)
    try:
        raise ConnectionError(f"refused: https://api.telegram.org/bot123:{SECRET}-x/getMe and {SECRET}")
    except ConnectionError:
        log.exception("call failed with Authorization: Bearer evt-secret-123")
    log.info("request", extra={"path": f"/hook?token={SECRET}", "status": 200})
    lines = stream.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert len(entries) == 3 and SECRET not in stream.getvalue() and "evt-secret-123" not in stream.getvalue()
    assert entries[0]["message"] == f"token {MARKER} in a message"
    assert "Traceback" in entries[1]["exc_info"] and MARKER in entries[1]["exc_info"]
    assert entries[1]["message"] == f"call failed with Authorization: Bearer {MARKER}"
    assert entries[2]["path"] == f"/hook?token={MARKER}" and entries[2]["status"] == 200
    for entry in entries:
        assert {"ts", "level", "logger", "role", "request_id", "message"} <= set(entry)
        assert entry["role"] == "cli" and entry["request_id"] == "-" and entry["ts"].endswith("Z")


def test_every_record_during_a_request_carries_its_id(app, caplog):
    """The access line, and anything else logged while serving, carry the id the response echoes."""
    logformat.install_context(logformat.role_for(None))
    client = app.test_client()
    with caplog.at_level(logging.DEBUG):
        response = client.get("/login", headers={"X-Request-ID": "trace-42"})
        client.get("/healthz")
        client.get("/static/app.css")
    assert response.headers["X-Request-ID"] == "trace-42"
    login = [r for r in caplog.records if r.name == "helpdesk.access" and r.path == "/login"]
    assert len(login) == 1 and login[0].levelno == logging.INFO and login[0].request_id == "trace-42"
    assert re.fullmatch(r"GET /login 200 \d+\.\dms", login[0].getMessage())
    quiet = [r for r in caplog.records if r.name == "helpdesk.access" and r.path != "/login"]
    assert len(quiet) == 2 and all(r.levelno == logging.DEBUG for r in quiet)  # probes and assets
    assert logformat.request_id.get() is None  # nothing leaks into what runs after the request


def test_the_access_log_keeps_query_names_not_values_and_escapes_control_characters(app, caplog):
    logformat.install_context(logformat.role_for(None))
    with caplog.at_level(logging.INFO, logger="helpdesk.access"):
        app.test_client().get("/login?next=%2Ftickets&token=s3cr3t-value")
        app.test_client().get("/no%0Aforged INFO line")
    paths = [r.path for r in caplog.records if r.name == "helpdesk.access"]
    assert paths == ["/login?next&token", "/no\\x0aforged\\x20INFO\\x20line"]
    assert "s3cr3t-value" not in caplog.text


def test_run_py_web_writes_json_lines_with_role_and_request_id(tmp_path, redis, rt, settings):
    """`LOG_FORMAT=json run.py web`: every log line parses; the access line of a request carries its id; the process
    is listed live while it serves."""
    log_path = tmp_path / "web.log"
    with open(log_path, "w") as log_file:
        with run_py_web(settings, redis, stderr=log_file, LOG_FORMAT="json", SECRET_KEY="s" * 12) as (process, url):
            request = urllib.request.Request(f"{url}/login", headers={"X-Request-ID": "json-trace-7"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200 and response.headers["X-Request-ID"] == "json-trace-7"
            urllib.request.urlopen(f"{url}/healthz", timeout=10).close()
            [web] = live_processes(redis)  # its heartbeat, with the address it serves
            assert (web.role, web.pid, web.detail) == ("web", process.pid, url.removeprefix("http://"))
    assert live_processes(redis) == []
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert entries and all(entry["role"] == "web" for entry in entries)
    access = [e for e in entries if e["logger"] == "helpdesk.access"]
    assert [(e["request_id"], e["path"], e["status"], e["level"]) for e in access] == [("json-trace-7", "/login", 200, "INFO")]
    assert all(e["request_id"] == "-" for e in entries if e["logger"] != "helpdesk.access")


def test_waitress_queue_depth_warnings_are_muted(caplog):
    """All of waitress's threads busy is load, not a fault: 2,093 such lines were seen in one load test."""
    configure_logging(environ={})
    with caplog.at_level(logging.WARNING):
        logging.getLogger("waitress.queue").warning("Task queue depth is %d", 7)
        logging.getLogger("waitress.queue").error("a real error")
    assert "Task queue depth" not in caplog.text and "a real error" in caplog.text
