"""Run every configured bot by long polling, one thread per token, each with its chat workers.

Stopping: `stop()` lets the updates being handled finish (at most STOP_GRACE seconds), hands back what a batch
had not started, and does not wait for an idle long poll (a daemon thread: the process exits under it; the
updates it may still return are neither claimed nor confirmed, so Telegram delivers them again).
"""
from __future__ import annotations

import logging
import threading
import time

import requests
from telebot.apihelper import ApiException, ApiTelegramException

from channels.telegram import botapi, dedupe
from channels.telegram.batch import WORKERS, BatchHandler, ChatWorkers
from channels.telegram.botapp import BotApp
from channels.telegram.client import BotConfigError, token_for
from engine.stop_signals import kept_from_new_threads

log = logging.getLogger(__name__)

POLL_TIMEOUT = 25  # seconds Telegram holds a getUpdates open
MAX_BACKOFF = 30
PRUNE_EVERY = 3600
STOP_GRACE = 2.5  # seconds a stop waits for the updates being handled (the promise is an exit within 3 s)
CONFIRM_TIMEOUT = 0.3  # seconds the last offset confirmation at a stop may take
ALLOWED_UPDATES = ["message", "callback_query"]


def apps_for(rt, only: list[str] | None = None) -> list[BotApp]:
    """One BotApp per distinct token among the telegram bindings; BotConfigError names a binding without a token."""
    bindings = rt.catalog.bindings(kind="telegram")
    wanted = [b for b in bindings if not only or b in only]
    unknown = sorted(set(only or ()) - set(bindings))
    if unknown:
        raise BotConfigError(f"no telegram binding named {', '.join(unknown)} in {rt.settings.config_dir}")
    by_token: dict[str, list[str]] = {}
    for binding_id in wanted:
        by_token.setdefault(token_for(rt.settings, binding_id, bindings[binding_id]), []).append(binding_id)
    return [BotApp(rt, token, ids) for token, ids in by_token.items()]


class BotRunner:
    """Checks every token with getMe, sets the Menu commands, then polls each bot in its own thread."""

    def __init__(self, rt, apps: list[BotApp], poll_timeout: int = POLL_TIMEOUT, workers: int = WORKERS):
        self.rt = rt
        self.apps = apps
        self.poll_timeout = poll_timeout
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.workers = [ChatWorkers(workers, f"bot-{app.primary}-chat", at_exit=rt.db.close) for app in apps]
        self.handlers = [BatchHandler(app, pool, self.stopping) for app, pool in zip(apps, self.workers)]
        self.busy = 0  # poll threads handling a batch
        self.long_polling: set[str] = set()  # names of the poll threads waiting in getUpdates
        self.idle = threading.Condition()

    def prepare(self) -> None:
        """Fail fast with the binding's name when a token is wrong; otherwise ready the bots for polling."""
        for app in self.apps:
            me = app.check()
            app.bot.delete_webhook()  # getUpdates is refused while a webhook is set
            app.set_commands()
            log.info("telegram %s: @%s ready", app.names, me["username"])

    def start(self) -> "BotRunner":
        for app, pool, handler in zip(self.apps, self.workers, self.handlers):
            thread = threading.Thread(target=self.poll, args=(app, handler), name=f"bot-{app.primary}", daemon=True)
            with kept_from_new_threads():  # SIGTERM must reach the main thread, which waits for it
                pool.start()
                thread.start()
            self.threads.append(thread)
        return self

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop polling: wait up to `grace` s for the updates being handled, hand back those still running."""
        deadline = time.monotonic() + grace
        self.stopping.set()
        with self.idle:
            self.idle.wait_for(lambda: self.busy == 0, timeout=grace)
        for app in self.apps:  # albums still gathering get their summary now
            app.albums.flush_all()
        for handler in self.handlers:
            abandoned = handler.hand_back()
            if abandoned:
                log.warning("telegram %s: stopped during updates %s; handed back to Telegram",
                            handler.app.names, abandoned)
        for thread in self.threads:  # one confirming its last batch ends now; one idle in a long poll is not waited for
            if thread.name not in self.long_polling:
                thread.join(max(0.0, deadline - time.monotonic()))
        for pool in self.workers:  # each chat thread ends after the update it may still be finishing
            pool.stop()

    def poll(self, app: BotApp, handler: BatchHandler) -> None:
        """Long-poll one bot; a batch is confirmed (offset) only after it was handled."""
        try:
            offset = None
            backoff = 1.0
            pruned = 0.0
            while not self.stopping.is_set():
                try:
                    self.long_polling.add(threading.current_thread().name)
                    try:
                        updates = botapi.get_updates(app.token, offset, self.poll_timeout, ALLOWED_UPDATES)
                    finally:
                        self.long_polling.discard(threading.current_thread().name)
                    backoff = 1.0
                except ApiTelegramException as exc:
                    if exc.error_code == 401:
                        log.error("telegram %s: token revoked (401); polling stops", app.names)
                        return
                    if exc.error_code == 409:
                        app.bot.delete_webhook()
                    backoff = self._pause(app, exc, backoff)
                    continue
                except (ApiException, requests.RequestException) as exc:
                    backoff = self._pause(app, exc, backoff)
                    continue
                if updates and not self._handle(handler, updates):
                    return  # stopped with part of the batch handed back: not confirmed
                offset = updates[-1].update_id + 1 if updates else offset
                if time.monotonic() - pruned > PRUNE_EVERY:
                    pruned = time.monotonic()
                    dedupe.prune_processed()
            self._confirm(app, offset)
        finally:
            self.rt.db.close()  # the thread's pooled connection goes back (a test process runs many bots)

    def _handle(self, handler: BatchHandler, updates: list) -> bool:
        """Handle a batch unless a stop came first; False when it was not (wholly) handled."""
        with self.idle:
            self.busy += 1
        try:
            return not self.stopping.is_set() and handler.handle(updates)
        finally:
            with self.idle:
                self.busy -= 1
                self.idle.notify_all()

    def _confirm(self, app: BotApp, offset: int | None) -> None:
        """Tell Telegram the last batch was handled, so it is not delivered again (a repeat would be ignored anyway)."""
        if offset is None:
            return
        try:
            botapi.call(app.token, "getUpdates", {"offset": offset, "limit": 1}, CONFIRM_TIMEOUT)  # no long poll
        except Exception as exc:  # the next process gets them again and dedupe skips them
            log.info("telegram %s: last offset not confirmed (%s)", app.names, exc)

    def _pause(self, app: BotApp, exc: Exception, backoff: float) -> float:
        log.warning("telegram %s: getUpdates failed (%s); retrying in %.0fs", app.names, exc, backoff)
        self.stopping.wait(backoff)
        return min(backoff * 2, MAX_BACKOFF)
