"""Prometheus metrics of the whole deployment, computed at scrape time from the database and Redis.

State is read, not counted: the outbox, the RQ queue, open tickets, live processes and the shared event counters
(`engine.counters`) are the same whichever web process is scraped and however many workers and bots run. Every
database count is bounded (`COUNT_CAP` rows per status, read through the status index), so a scrape stays cheap
with a large backlog. A database or Redis that does not answer leaves its series out and sets
`helpdesk_metrics_source_up{source=...}` to 0; the scrape itself never fails.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from peewee import SQL, fn
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from engine import counters
from engine.liveness import live_processes
from engine.redis_conn import quick_client
from engine.store.models import Delivery, Ticket
from engine.ticket_states import ACTIVE_STATUSES

log = logging.getLogger(__name__)

COUNT_CAP = 100_000  # rows counted per status at most: a larger backlog reads as this value
# failed and skipped rows only accumulate, scattered over the whole table (reading them touches most of its pages);
# past this many the figure is not acted on differently (alert on the attempts counter's rate instead)
FINAL_CAP = 10_000
REDIS_TIMEOUT = 1.0  # seconds: a scrape must answer while Redis hangs
OUTBOX_STATUSES = ("pending", "sending", "failed", "skipped")  # `sent` grows forever: see delivery_attempts_total
QUEUE_STATES = ("scheduled", "started", "deferred", "failed")  # RQ registries besides the queue itself ("queued")


class HelpdeskCollector(Collector):
    """The scrape-time series of one web process's Runtime (`web.metrics` registers it)."""

    def __init__(self, rt, cap: int = COUNT_CAP, final_cap: int = FINAL_CAP):
        self.rt = rt
        self.cap = cap
        self.final_cap = final_cap
        self.redis = quick_client(rt.redis, REDIS_TIMEOUT)
        self._failing: set[str] = set()

    def collect(self):
        started = time.perf_counter()
        families = list(self._config())
        up = GaugeMetricFamily("helpdesk_metrics_source_up", "1 when this scrape could read the source, else 0.",
                               labels=["source"])
        for source, reader in (("database", self._database), ("redis", self._redis)):
            try:
                families += list(reader())
            except Exception as exc:  # whatever the driver raises: report the source down, serve the rest
                up.add_metric([source], 0)
                if source not in self._failing:
                    log.warning("metrics: %s unavailable (logged once until it answers again): %s", source, exc)
                self._failing.add(source)
            else:
                up.add_metric([source], 1)
                self._failing.discard(source)
        families.append(up)
        took = GaugeMetricFamily("helpdesk_metrics_collect_seconds", "Time this scrape spent reading the database and Redis.")
        took.add_metric([], time.perf_counter() - started)
        families.append(took)
        return families

    # --- this process -------------------------------------------------------------------------------------

    def _config(self):
        catalog = self.rt.catalog
        info = InfoMetricFamily("helpdesk_config", "The config version this web process serves.")
        info.add_metric([], {"version": catalog.version})
        loaded = GaugeMetricFamily("helpdesk_config_loaded_timestamp_seconds", "When this process loaded the config it serves.")
        loaded.add_metric([], catalog.loaded_at.timestamp())
        return info, loaded

    # --- database -----------------------------------------------------------------------------------------

    def _database(self):
        self.rt.db.connect(reuse_if_open=True)
        outbox = GaugeMetricFamily(
            "helpdesk_outbox_deliveries",
            f"Outbox rows by channel and status: pending and sending (at most {self.cap} counted per status), "
            f"failed and skipped (at most {self.final_cap}).",
            labels=["channel", "status"])
        for status in OUTBOX_STATUSES:
            cap = self.final_cap if status in ("failed", "skipped") else self.cap
            for channel, count in self._capped_by_channel(status, cap):
                outbox.add_metric([channel, status], count)
        lag = GaugeMetricFamily("helpdesk_outbox_oldest_age_seconds",
                                "Age of the oldest undelivered (pending or sending) outbox row; 0 when none: the outbox lag.")
        lag.add_metric([], self._oldest_undelivered_age())
        tickets = GaugeMetricFamily("helpdesk_tickets_open", f"Open tickets by status, at most {self.cap} per status.",
                                    labels=["status"])
        for status in ACTIVE_STATUSES:
            tickets.add_metric([status], self._capped_count(Ticket, Ticket.status == status))
        return outbox, lag, tickets

    def _capped_by_channel(self, status: str, cap: int) -> list[tuple[str, int]]:
        inner = Delivery.select(Delivery.channel).where(Delivery.status == status).limit(cap).alias("capped")
        query = Delivery.select(inner.c.channel, fn.COUNT(SQL("*"))).from_(inner).group_by(inner.c.channel)
        return list(query.tuples())

    def _capped_count(self, model, condition) -> int:
        inner = model.select(SQL("1")).where(condition).limit(self.cap).alias("capped")
        return model.select(fn.COUNT(SQL("*"))).from_(inner).scalar() or 0

    def _oldest_undelivered_age(self) -> float:
        """The oldest creation time within each status. Ordered by `created_at` (not indexed) on purpose: the
        database reads the status's rows through its index and sorts them, a cost that follows the backlog; by `id`,
        PostgreSQL walks the primary key from the oldest row, reading every sent row before the first pending one."""
        oldest = []
        for status in ("pending", "sending"):
            row = (Delivery.select(Delivery.created_at).where(Delivery.status == status)
                   .order_by(Delivery.created_at).limit(1).first())
            if row is not None:
                oldest.append(row.created_at)
        if not oldest:
            return 0.0
        now = self.rt.clock()
        first = min(oldest)
        if first.tzinfo is None:
            first = first.replace(tzinfo=timezone.utc)
        return max(0.0, (now - first).total_seconds())

    # --- Redis --------------------------------------------------------------------------------------------

    def _redis(self):
        queue = self.rt.queue
        registries = {"scheduled": queue.scheduled_job_registry, "started": queue.started_job_registry,
                      "deferred": queue.deferred_job_registry, "failed": queue.failed_job_registry}
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(queue.key)
            for state in QUEUE_STATES:
                pipe.zcard(registries[state].key)
            queued, *registered = pipe.execute()
        jobs = GaugeMetricFamily("helpdesk_queue_jobs", "RQ jobs of the helpdesk queue by state: queued (waiting for a "
                                 "worker), scheduled (delayed retries and timeouts), started, deferred, failed.",
                                 labels=["state"])
        jobs.add_metric(["queued"], queued)
        for state, value in zip(QUEUE_STATES, registered):
            jobs.add_metric([state], value)
        return [jobs, *self._event_counters(), *self._processes()]

    def _event_counters(self):
        for name, series in counters.read_all(self.redis).items():
            help_text, labels = counters.COUNTERS[name]
            family = CounterMetricFamily(f"helpdesk_{name}", help_text + " Shared by every process, kept in Redis.",
                                         labels=list(labels))
            for values, value in series:
                family.add_metric([values[label] for label in labels], value)
            yield family

    def _processes(self):
        processes = live_processes(self.redis)
        live = GaugeMetricFamily("helpdesk_live_processes", "Processes whose liveness heartbeat is current, by role "
                                 "(web, worker, bot) and the config version they serve.", labels=["role", "version"])
        per_group: dict[tuple[str, str], int] = {}
        for process in processes:
            per_group[(process.role, process.version)] = per_group.get((process.role, process.version), 0) + 1
        for (role, version), count in sorted(per_group.items()):
            live.add_metric([role, version], count)
        age = GaugeMetricFamily("helpdesk_process_heartbeat_age_seconds", "Seconds since each live process's last "
                                "heartbeat (it beats every HEARTBEAT_INTERVAL, default 10 s).", labels=["role", "host", "pid"])
        now = datetime.now(timezone.utc)
        for process in processes:
            age.add_metric([process.role, process.host, str(process.pid)], process.age(now))
        return live, age

