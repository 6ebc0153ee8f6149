"""SIGTERM stops `run.py bot` within seconds, idle in a long poll or in the middle of an update, and no update
is lost: the one in hand is finished, the ones not started are left to Telegram for the next process."""
from __future__ import annotations

from tests.processes.test_no_leftover_processes import RunPy, stop
from tests.processes.test_no_leftover_processes import subreaper  # noqa: F401 (fixture)
from tests.telegram.conftest import NOTIFY_TOKEN, SUPPORT_TOKEN
from tests.telegram.fake_bot_api import FakeBotAPI

BOT_STOP_LIMIT = 5.0  # seconds from SIGTERM to exit; the bot aims at 3 s, this leaves room for a loaded CI machine
SLOW_SEND = 2.0  # seconds the fake holds the reply of the update being handled when the signal comes


def start_bot(run: RunPy, api: FakeBotAPI):
    polls = len(api.calls_of("getUpdates", SUPPORT_TOKEN))
    proc = run.start("bot", "--binding", "support_bot")
    api.wait_for(lambda: len(api.calls_of("getUpdates", SUPPORT_TOKEN)) > polls or proc.poll() is not None)
    assert proc.poll() is None, proc.stdout.read()
    return proc


def replies_to(api: FakeBotAPI, chat_id: int) -> list:
    return [c for c in api.calls_of("sendMessage", SUPPORT_TOKEN) if str(c.params.get("chat_id")) == str(chat_id)]


def test_sigterm_during_an_idle_long_poll_exits_at_once(tmp_path, config_dir):
    with FakeBotAPI({SUPPORT_TOKEN: "sup_test_bot", NOTIFY_TOKEN: "notify_test_bot"}) as api:
        run = RunPy(config_dir, tmp_path / "data", TELEGRAM_API_URL=api.url, SUPPORT_BOT_TOKEN=SUPPORT_TOKEN)
        assert run.run("db", "upgrade").returncode == 0
        proc = start_bot(run, api)
        api.wait_for(lambda: api.calls_of("getUpdates", SUPPORT_TOKEN)[-1].params.get("timeout") in (25, "25"))
        elapsed, _ = stop(proc)
        output = proc.stdout.read()
        assert proc.returncode == 0 and elapsed < BOT_STOP_LIMIT, f"exit {proc.returncode} after {elapsed:.1f} s\n{output}"
        print(f"stopped {elapsed:.2f} s after SIGTERM in a long poll")

        api.user_text(SUPPORT_TOKEN, 501, "/help")  # came while no bot ran: the next one answers it
        proc = start_bot(run, api)
        api.wait_for(lambda: replies_to(api, 501))
        stop(proc)


def test_sigterm_during_an_update_finishes_it_and_leaves_the_next_to_telegram(tmp_path, config_dir):
    with FakeBotAPI({SUPPORT_TOKEN: "sup_test_bot", NOTIFY_TOKEN: "notify_test_bot"}) as api:
        run = RunPy(config_dir, tmp_path / "data", TELEGRAM_API_URL=api.url, SUPPORT_BOT_TOKEN=SUPPORT_TOKEN)
        assert run.run("db", "upgrade").returncode == 0
        proc = start_bot(run, api)
        api.fail("sendMessage", "slow", chat_id=601, delay=SLOW_SEND)
        update = api.user_text(SUPPORT_TOKEN, 601, "/help")
        api.wait_for(lambda: replies_to(api, 601))  # the bot is in the middle of its reply
        api.user_text(SUPPORT_TOKEN, 602, "/help")  # arrives while the bot is busy, after the stop
        elapsed, _ = stop(proc)
        output = proc.stdout.read()
        assert proc.returncode == 0 and elapsed < BOT_STOP_LIMIT, f"exit {proc.returncode} after {elapsed:.1f} s\n{output}"
        print(f"stopped {elapsed:.2f} s after SIGTERM in the middle of an update")
        assert api.bots[SUPPORT_TOKEN].confirmed == update + 1  # the update in hand was finished and confirmed
        assert not replies_to(api, 602)

        proc = start_bot(run, api)
        api.wait_for(lambda: replies_to(api, 602))
        stop(proc)
        assert len(replies_to(api, 601)) == 1 and len(replies_to(api, 602)) == 1  # neither lost nor repeated
