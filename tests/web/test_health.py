"""/healthz and /readyz: what a load balancer or supervisor asks before sending traffic."""
from __future__ import annotations

from redis import Redis

from engine.runtime import start_runtime
from web import create_app


def test_a_healthy_process_is_alive_and_ready(app):
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok", "catalog": "ok"}}


def test_readiness_is_503_naming_redis_when_it_is_unreachable(settings, tmp_path):
    rt = start_runtime(settings, redis=Redis(unix_socket_path=str(tmp_path / "no-redis.sock")))
    client = create_app(runtime=rt, overrides={"TESTING": True}).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["redis"].startswith("unavailable: ") and "no-redis.sock" in checks["redis"]
    assert checks["database"] == "ok" and client.get("/healthz").status_code == 200


def test_readiness_is_503_naming_the_database_when_it_cannot_connect(settings, redis, tmp_path):
    broken = settings.with_overrides(database_url=f"sqlite:///{tmp_path}/missing-folder/helpdesk.sqlite3")
    client = create_app(runtime=start_runtime(broken, redis=redis), overrides={"TESTING": True}).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"].startswith("unavailable: OperationalError") and checks["redis"] == "ok"
