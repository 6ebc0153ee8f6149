"""A stop waits a moment for the updates in hand; one still running then is handed back to Telegram."""
from __future__ import annotations

import logging

from channels.telegram.runner import BotRunner, apps_for
from engine.store.models import ProcessedUpdate
from tests.telegram.chat import Chat
from tests.telegram.conftest import SUPPORT_TOKEN
from tests.waiting import wait_for

CHAT = 9009


def test_an_update_still_running_after_the_grace_is_handed_back(rt, fake_api, caplog):
    runner = BotRunner(rt, apps_for(rt), poll_timeout=1)
    runner.prepare()
    runner.start()
    fake_api.fail("sendMessage", "slow", chat_id=CHAT, delay=3.0)
    update = fake_api.user_text(SUPPORT_TOKEN, CHAT, "/help")
    fake_api.wait_for(lambda: [c for c in fake_api.calls_of("sendMessage") if str(c.params.get("chat_id")) == str(CHAT)])
    with caplog.at_level(logging.WARNING):
        runner.stop(grace=0.2)
    assert not ProcessedUpdate.select().where(ProcessedUpdate.update_id == update).exists()  # claim released
    assert fake_api.bots[SUPPORT_TOKEN].confirmed <= update  # never confirmed: Telegram delivers it again
    assert f"stopped during updates [{update}]; handed back" in caplog.text
    fake_api.interrupt_polls()


def test_a_stopped_runner_s_threads_end(rt, fake_api):
    """A process that runs bots more than once (the test suite) kept every stopped runner's chat threads, each
    holding a pooled database connection; the PostgreSQL pass ran out of connections."""
    runner = BotRunner(rt, apps_for(rt), poll_timeout=1)
    runner.prepare()
    runner.start()
    Chat(fake_api, SUPPORT_TOKEN, CHAT).send("/help")
    runner.stopping.set()
    fake_api.interrupt_polls()
    runner.stop()
    threads = [t for pool in runner.workers for t in pool.threads] + runner.threads
    wait_for(lambda: not any(t.is_alive() for t in threads), message="the runner's threads to end")
