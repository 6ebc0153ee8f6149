"""Notification fan-out and delivery throughput against raw RQ measured in the same run.

    python benchmarks/bench_notify.py [--scale 1.0] [--deliver 5000]

Scale 1.0 fans out 100,000 notifications (10,000 customers x 10 notifications over the
configured types; 30% of customers have a linked notification bot) on SQLite (WAL) and an
embedded Redis, then:
  * enqueue: engine.notify.enqueue_deliveries for every notification vs raw RQ enqueue_many of
    the same number of trivial jobs (same batch size);
  * delivery: `--deliver` engine deliver jobs run by an RQ SimpleWorker with Telegram rate limits
    lifted and both channels replaced by an in-process fake sender, vs the same worker running as
    many trivial jobs.
Engine and baseline alternate (per enqueue batch, and in ten delivery rounds) so both see the same
machine load; the ratios are the figures to compare between runs.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402
from rq import Queue, SimpleWorker  # noqa: E402

from channels import register_channels  # noqa: E402
from engine import jobs  # noqa: E402
from engine.notify import enqueue_deliveries, notify  # noqa: E402
from engine.redis_conn import stop_embedded_redis  # noqa: E402
from engine.runtime import start_runtime  # noqa: E402
from engine.senders import register_sender  # noqa: E402
from engine.settings import PROJECT_ROOT, Settings  # noqa: E402
from engine.store.migrations import upgrade  # noqa: E402
from engine.store.models import Delivery, TelegramLink, User  # noqa: E402

register_channels()  # as run.py does at a process's start

SAMPLE = {"number": 12.5, "integer": 42, "string": "значение", "boolean": True, "date": "2026-12-31"}
BATCH = 1000
sent = []


def trivial(n: int) -> int:
    """The baseline job: does nothing but exist."""
    return n


def fake_sender(rt, outgoing) -> None:
    sent.append(outgoing.delivery_id)


def build_runtime(root: Path):
    config = root / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    policies_file = config / "policies.yaml"
    data = yaml.safe_load(policies_file.read_text()) or {}
    data.setdefault("policies", {})["telegram_rate"] = {"per_bot_per_second": 1e6, "per_chat_per_second": 1e6}
    policies_file.write_text(yaml.safe_dump(data, allow_unicode=True))
    rt = start_runtime(Settings(config_dir=config, data_dir=root / "data", secret_key="bench", env={}))
    upgrade(rt.db)
    return rt


def seed_customers(rt, customers: int) -> list[int]:
    with rt.db.atomic():
        for start in range(0, customers, BATCH):
            User.insert_many([{"email": f"c{i}@example.com", "name": f"C{i}"} for i in range(start, min(customers, start + BATCH))]).execute()
        ids = [u.id for u in User.select(User.id).order_by(User.id)]
        links = [{"user": uid, "binding": "notify_bot", "chat_id": 10_000_000 + uid, "tg_user_id": uid} for uid in ids[::10]]
        links += [{"user": uid, "binding": "notify_bot", "chat_id": 20_000_000 + uid, "tg_user_id": uid} for uid in ids[3::10]]
        links += [{"user": uid, "binding": "notify_bot", "chat_id": 30_000_000 + uid, "tg_user_id": uid} for uid in ids[7::10]]
        for start in range(0, len(links), BATCH):
            TelegramLink.insert_many(links[start:start + BATCH]).execute()
    return ids


def fan_out(rt, user_ids: list[int], per_customer: int) -> tuple[list[int], float]:
    types = [(t, {p: SAMPLE[k] for p, k in spec.params.items()}) for t, spec in rt.catalog.notification_types.items()]
    ids: list[int] = []
    started = time.perf_counter()
    for start in range(0, len(user_ids), BATCH // per_customer or 1):
        with rt.db.atomic():
            for user in User.select().where(User.id.in_(user_ids[start:start + (BATCH // per_customer or 1)])):
                for k in range(per_customer):
                    type_id, params = types[k % len(types)]
                    ids.append(notify(rt.catalog, user, type_id, params).id)
    return ids, time.perf_counter() - started


def raw_enqueue(rt, queue: Queue, count: int) -> None:
    """The baseline: `count` trivial jobs through enqueue_many in one pipeline."""
    with rt.redis.pipeline() as pipe:
        queue.enqueue_many([Queue.prepare_data(trivial, (k,), result_ttl=0) for k in range(count)], pipeline=pipe)
        pipe.execute()


def burst(rt, queue: Queue, jobs_count: int) -> None:
    SimpleWorker([queue], connection=rt.redis).work(burst=True, max_jobs=jobs_count, logging_level="ERROR")


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 10,000 customers x 10 notifications")
    parser.add_argument("--deliver", type=int, default=5000, help="deliver jobs to run in the delivery phase")
    args = parser.parse_args()
    customers, per_customer = max(10, int(10_000 * args.scale)), 10
    root = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    rt = build_runtime(root)
    try:
        user_ids = seed_customers(rt, customers)
        notification_ids, fan_out_s = fan_out(rt, user_ids, per_customer)
        deliveries = Delivery.select().count()
        print(f"fan-out: {len(notification_ids):,} notifications, {deliveries:,} outbox rows "
              f"in {fan_out_s:.1f}s ({len(notification_ids) / fan_out_s:,.0f} notifications/s)")

        # Engine and baseline alternate batch by batch, so both see the same machine load.
        raw_queue = Queue("bench-raw", connection=rt.redis)
        enqueue_s = raw_s = 0.0
        for i in range(0, len(notification_ids), BATCH):
            before = len(rt.queue)
            enqueue_s += timed(lambda: enqueue_deliveries(rt, notification_ids[i:i + BATCH]))
            batch = len(rt.queue) - before
            raw_s += timed(lambda: raw_enqueue(rt, raw_queue, batch))
        queued = len(rt.queue)
        ours, raw = queued / enqueue_s, queued / raw_s
        print(f"enqueue: engine {queued:,} deliveries in {enqueue_s:.1f}s ({ours:,.0f}/s); "
              f"raw RQ {queued:,} trivial jobs in {raw_s:.1f}s ({raw:,.0f}/s); ratio engine/raw {ours / raw:.2f}")

        register_sender("email", fake_sender)
        register_sender("telegram", fake_sender)
        jobs.bind_runtime(rt)
        n = min(args.deliver, queued)
        rounds, deliver_s, trivial_s = 10, 0.0, 0.0
        for _ in range(rounds):
            deliver_s += timed(lambda: burst(rt, rt.queue, n // rounds))
            trivial_s += timed(lambda: burst(rt, raw_queue, n // rounds))
        n = n // rounds * rounds
        ours, raw = n / deliver_s, n / trivial_s
        print(f"delivery: engine {len(sent):,} sent of {n:,} jobs in {deliver_s:.1f}s ({ours:,.0f}/s); "
              f"trivial jobs {raw:,.0f}/s; ratio engine/raw {ours / raw:.2f}")
        assert len(sent) == len(set(sent)) == n, "every deliver job sends exactly once"
    finally:
        stop_embedded_redis(rt.redis)
        rt.db.close()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
