"""One getUpdates batch: claimed in one transaction, each chat's updates in order, different chats side by side.

A stop lets the running updates finish; the batch's updates not started yet are handed back (their claims
released) and, never confirmed by offset, come again from Telegram to the next bot process.
"""
from __future__ import annotations

import logging
import queue
import threading
from functools import partial
from typing import Callable

from telebot import types

from channels.telegram import dedupe
from channels.telegram.chat_lock import batch_locks, holding
from channels.telegram.sender import LateReleases
from engine.pacing import pacer_for

log = logging.getLogger(__name__)

WORKERS = 4  # chats handled at once per bot: their Bot API, Redis and database waits overlap


class ChatWorkers:
    """Daemon threads running tasks (one chat's updates each); they never hold up the process's exit.

    `at_exit` runs in each thread as it ends after `stop()` (the bot gives back the thread's database connection:
    a stopped bot's threads left behind in a long-lived process held a pooled PostgreSQL connection each)."""

    def __init__(self, size: int, name: str, at_exit: Callable[[], object] = lambda: None):
        self.tasks: queue.SimpleQueue = queue.SimpleQueue()
        self.threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(size)]
        self.at_exit = at_exit

    def start(self) -> None:
        """Start the threads (from a thread that blocks stop signals: they inherit its mask)."""
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        """End each thread once the tasks queued before this are done; returns at once."""
        for _ in self.threads:
            self.tasks.put(None)

    def _work(self) -> None:
        try:
            while (task := self.tasks.get()) is not None:
                task()
        finally:
            self.at_exit()

    def run_all(self, tasks: list[Callable[[], None]]) -> None:
        """Run the tasks side by side and return when every one has finished (a lone task runs right here)."""
        if len(tasks) <= 1 or not self.threads:
            for task in tasks:
                task()
            return
        left = threading.Semaphore(0)

        def counted(task: Callable[[], None]) -> None:
            try:
                task()
            finally:
                left.release()

        for task in tasks:
            self.tasks.put(partial(counted, task))
        for _ in tasks:
            left.acquire()


def chat_of(update: types.Update) -> object:
    """What orders an update: its chat (messages and button presses); anything else stands alone."""
    if update.message is not None:
        return update.message.chat.id
    call = update.callback_query
    if call is not None and call.message is not None:
        return call.message.chat.id
    return ("update", update.update_id)


class BatchHandler:
    """Handles one bot's batches; `in_flight` are the updates being handled right now."""

    def __init__(self, app, workers: ChatWorkers, stopping: threading.Event):
        self.app = app
        self.workers = workers
        self.stopping = stopping
        self.in_flight: set[int] = set()
        self.handed_back: list[int] = []
        self._lock = threading.Lock()

    def handle(self, updates: list[types.Update]) -> bool:
        """Handle a batch; False when a stop left some updates unstarted (handed back, so not to be confirmed)."""
        primary = self.app.primary
        fresh = dedupe.claim_updates(primary, [u.update_id for u in updates])
        chats: dict[object, list[types.Update]] = {}
        for update in updates:
            if update.update_id in fresh:
                chats.setdefault(chat_of(update), []).append(update)
        unstarted: list[int] = []
        redis, late = self.app.rt.redis, LateReleases()  # the sends' pacing slots, released late (sender.paced)
        with batch_locks(redis, primary, [c for c in chats if isinstance(c, int)],
                         also_at_release=partial(self._release_slots, redis, late)) as held:
            self.workers.run_all([partial(self._run_chat, chat in held, chat_updates, unstarted, late)
                                  for chat, chat_updates in chats.items()])
        dedupe.release_updates(primary, unstarted)
        return not unstarted and not self.handed_back  # a handed-back update must not be confirmed

    def _run_chat(self, held: bool, chat_updates: list[types.Update], unstarted: list[int], late: LateReleases) -> None:
        with late.collecting():
            if held:
                with holding(self.app.primary, chat_of(chat_updates[0])):
                    return self._run_updates(chat_updates, unstarted)
            self._run_updates(chat_updates, unstarted)

    @staticmethod
    def _release_slots(redis, late: LateReleases, pipeline) -> None:
        pacer_for(redis).release_all(late.take(), pipeline)

    def _run_updates(self, chat_updates: list[types.Update], unstarted: list[int]) -> None:
        for position, update in enumerate(chat_updates):
            if self.stopping.is_set():
                unstarted.extend(u.update_id for u in chat_updates[position:])
                return
            with self._lock:
                self.in_flight.add(update.update_id)
            try:
                self.app.process(update)
            except Exception:  # one bad update must not stop the bot; it was claimed, so it is not retried
                log.exception("telegram %s: update %s failed", self.app.names, update.update_id)
            finally:
                with self._lock:
                    self.in_flight.discard(update.update_id)

    def hand_back(self) -> list[int]:
        """Release the claims of the updates still running (the process exits without finishing them)."""
        with self._lock:
            abandoned = sorted(self.in_flight)
            self.handed_back += abandoned
        dedupe.release_updates(self.app.primary, abandoned)
        return abandoned
