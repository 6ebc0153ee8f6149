"""Run every configured bot by long polling, one thread per token."""
from __future__ import annotations

import logging
import threading
import time

import requests
from telebot.apihelper import ApiException, ApiTelegramException

from channels.telegram import dedupe
from channels.telegram.botapp import BotApp
from channels.telegram.client import BotConfigError, token_for
from engine.stop_signals import kept_from_new_threads

log = logging.getLogger(__name__)

POLL_TIMEOUT = 25  # seconds Telegram holds a getUpdates open
MAX_BACKOFF = 30
PRUNE_EVERY = 3600


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

    def __init__(self, rt, apps: list[BotApp], poll_timeout: int = POLL_TIMEOUT):
        self.rt = rt
        self.apps = apps
        self.poll_timeout = poll_timeout
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def prepare(self) -> None:
        """Fail fast with the binding's name when a token is wrong; otherwise ready the bots for polling."""
        for app in self.apps:
            me = app.check()
            app.bot.delete_webhook()  # getUpdates is refused while a webhook is set
            app.set_commands()
            log.info("telegram %s: @%s ready", app.names, me["username"])

    def start(self) -> "BotRunner":
        for app in self.apps:
            thread = threading.Thread(target=self.poll, args=(app,), name=f"bot-{app.primary}", daemon=True)
            with kept_from_new_threads():  # SIGTERM must reach the main thread, which waits for it
                thread.start()
            self.threads.append(thread)
        return self

    def stop(self, timeout: float = 10) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout)

    def poll(self, app: BotApp) -> None:
        """Long-poll one bot; an update is confirmed (offset) only after it was handled."""
        offset = None
        backoff = 1.0
        pruned = 0.0
        while not self.stopping.is_set():
            try:
                updates = app.bot.get_updates(offset=offset, timeout=self.poll_timeout + 10,
                                              long_polling_timeout=self.poll_timeout,
                                              allowed_updates=["message", "callback_query"])
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
            for update in updates:
                if self.stopping.is_set():
                    return
                try:
                    app.handle_update(update)
                except Exception:  # one bad update must not stop the bot; it was claimed, so it is not retried
                    log.exception("telegram %s: update %s failed", app.names, update.update_id)
                offset = update.update_id + 1
            if time.monotonic() - pruned > PRUNE_EVERY:
                pruned = time.monotonic()
                dedupe.prune_processed()

    def _pause(self, app: BotApp, exc: Exception, backoff: float) -> float:
        log.warning("telegram %s: getUpdates failed (%s); retrying in %.0fs", app.names, exc, backoff)
        self.stopping.wait(backoff)
        return min(backoff * 2, MAX_BACKOFF)
