"""The Runtime: one object holding a process's settings, database, Redis, queue and catalog."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from peewee import Database
from redis import Redis
from rq import Queue

from engine.blobstore import BlobStore, open_store
from engine.catalog import Catalog
from engine.catalog_sync import CatalogHolder
from engine.clock import Clock, utcnow
from engine import live_cache
from engine.config_follower import poll_interval_from
from engine.logsafe import install_redaction
from engine.redis_conn import connect_redis
from engine.settings import Settings
from engine.store.db import init_database

QUEUE_NAME = "helpdesk"


@dataclass
class Runtime:
    """What every edge (web app, bot runner, RQ worker, CLI) builds once and passes to engine calls."""

    settings: Settings
    db: Database
    redis: Redis
    catalogs: CatalogHolder
    queue: Queue
    clock: Clock = utcnow  # the wall clock deadlines are computed from (engine.clock)
    # Signed-in sessions and unread counts; trusted once a web app has it follow the evictions (engine.live_cache).
    cache: live_cache.LiveCache = field(default_factory=live_cache.LiveCache)

    @property
    def catalog(self) -> Catalog:
        """The current catalog snapshot (switches when another process published a reload)."""
        return self.catalogs.current

    @cached_property
    def blobs(self) -> BlobStore:
        """The attachment store `settings.storage_url` names (local folder by default), built on first use."""
        return open_store(self.settings)


def start_runtime(settings: Settings, redis: Redis | None = None) -> Runtime:
    """Connect the database and Redis, load the catalog; raises ConfigErrors if the config is invalid.
    The catalog holder starts a daemon thread following new config versions: `rt.catalogs.close()` stops it."""
    install_redaction(settings.env)  # secrets known to this process never reach a log
    db = init_database(settings)
    redis = redis or connect_redis(settings)
    live_cache.publish_with(redis)  # where this process announces changes other processes' caches hold
    # The newest config version stored in the database (the folder becomes version 1 of an empty history).
    catalogs = CatalogHolder(settings.config_dir, redis=redis, db=db, poll_interval=poll_interval_from(settings.env))
    return Runtime(settings=settings, db=db, redis=redis, catalogs=catalogs, queue=Queue(QUEUE_NAME, connection=redis))
