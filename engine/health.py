"""Readiness: can this process serve right now? One check per dependency, each answering fast."""
from __future__ import annotations

from redis.exceptions import RedisError

from engine.redis_conn import quick_client

CHECK_TIMEOUT = 1.0  # seconds a Redis check may take: a probe must answer while the dependency hangs


class HealthProbe:
    """Checks the database, Redis and the catalog of one process's Runtime (built once per process)."""

    def __init__(self, rt):
        self.rt = rt
        self.redis = quick_client(rt.redis, CHECK_TIMEOUT)
        self.blobs = rt.blobs  # built now: a STORAGE_URL it cannot use stops the web process at start

    def readiness(self) -> dict[str, str]:
        """{"database"|"redis"|"catalog"[|"storage"]: "ok" or why not}; ready when every value is "ok".

        "storage" is there when the attachment store has something to check (S3: a HEAD of the bucket, cached briefly).
        """
        checks = {"database": self._database(), "redis": self._redis(), "catalog": self._catalog()}
        storage = self.blobs.readiness()
        if storage is not None:
            checks["storage"] = storage
        return checks

    def _database(self) -> str:
        try:
            self.rt.db.execute_sql("SELECT 1").fetchone()
            return "ok"
        except Exception as exc:  # whatever the driver raises means "not ready"; its text is the reason
            return f"unavailable: {type(exc).__name__}: {exc}".strip()

    def _redis(self) -> str:
        try:
            self.redis.ping()
            return "ok"
        except RedisError as exc:
            return f"unavailable: {exc}"

    def _catalog(self) -> str:
        return "ok" if self.rt.catalog.version else "not loaded"
