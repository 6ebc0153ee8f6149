"""Each Telegram update_id counts once: claimed in the database before it is handled (at most once).

A claim handed back (`release_updates`) makes the update count again: the bot stopped before handling it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cache

from peewee import Value

from engine.store.models import ProcessedUpdate
from engine.store.prepared import PreparedWrite

PROCESSED_TTL = timedelta(days=2)  # Telegram keeps undelivered updates for 24 hours


def claim_update(binding: str, update_id: int) -> bool:
    """Record the update as handled; False when it already was (a repeated delivery is ignored)."""
    return update_id in claim_updates(binding, [update_id])


def claim_updates(binding: str, update_ids: list[int]) -> set[int]:
    """Claim a getUpdates batch in one statement; returns the ids not handled before (the ones to handle).

    INSERT ... ON CONFLICT DO NOTHING (SQLite: OR IGNORE) RETURNING gives back only the rows it inserted: an id
    claimed before, or by another process meanwhile (it waits for that one's commit), is not returned."""
    fresh = list(dict.fromkeys(update_ids))
    if not fresh:
        return set()
    at = ProcessedUpdate.at.db_value(datetime.now(timezone.utc))
    values = [value for update_id in fresh for value in (binding, update_id, at)]
    return {row.update_id for row in _claim_statement(len(fresh)).all(*values)}


@cache
def _claim_statement(rows: int) -> PreparedWrite:
    """The claim of `rows` updates, its SQL built once per size (a batch has at most 100)."""
    return PreparedWrite(lambda *values: ProcessedUpdate.insert_many(
        [{ProcessedUpdate.binding: values[i], ProcessedUpdate.update_id: values[i + 1],
          ProcessedUpdate.at: Value(values[i + 2], converter=False)} for i in range(0, len(values), 3)]
    ).on_conflict_ignore().returning(ProcessedUpdate.update_id), arity=3 * rows)


def release_updates(binding: str, update_ids: list[int]) -> None:
    """Hand claimed updates back: they were not handled, and Telegram delivers them again (not confirmed)."""
    if update_ids:
        ProcessedUpdate.delete().where((ProcessedUpdate.binding == binding)
                                       & ProcessedUpdate.update_id.in_(update_ids)).execute()


def prune_processed(now: datetime | None = None) -> int:
    """Forget update ids older than Telegram would ever deliver again."""
    cutoff = (now or datetime.now(timezone.utc)) - PROCESSED_TTL
    return ProcessedUpdate.delete().where(ProcessedUpdate.at < cutoff).execute()
