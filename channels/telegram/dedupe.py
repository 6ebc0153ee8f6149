"""Each Telegram update_id counts once: claimed in the database before it is handled (at most once).

A claim handed back (`release_updates`) makes the update count again: the bot stopped before handling it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.store.models import ProcessedUpdate

PROCESSED_TTL = timedelta(days=2)  # Telegram keeps undelivered updates for 24 hours


def claim_update(db, binding: str, update_id: int) -> bool:
    """Record the update as handled; False when it already was (a repeated delivery is ignored)."""
    return update_id in claim_updates(db, binding, [update_id])


def claim_updates(db, binding: str, update_ids: list[int]) -> set[int]:
    """Claim a getUpdates batch in one statement; returns the ids not handled before (the ones to handle).

    INSERT ... ON CONFLICT DO NOTHING (SQLite: OR IGNORE) RETURNING gives back only the rows it inserted: an id
    claimed before, or by another process meanwhile (it waits for that one's commit), is not returned."""
    if not update_ids:
        return set()
    rows = [{"binding": binding, "update_id": i} for i in dict.fromkeys(update_ids)]
    query = ProcessedUpdate.insert_many(rows).on_conflict_ignore().returning(ProcessedUpdate.update_id)
    return {update_id for update_id, in query.tuples().execute(db)}


def release_updates(binding: str, update_ids: list[int]) -> None:
    """Hand claimed updates back: they were not handled, and Telegram delivers them again (not confirmed)."""
    if update_ids:
        ProcessedUpdate.delete().where((ProcessedUpdate.binding == binding)
                                       & ProcessedUpdate.update_id.in_(update_ids)).execute()


def prune_processed(now: datetime | None = None) -> int:
    """Forget update ids older than Telegram would ever deliver again."""
    cutoff = (now or datetime.now(timezone.utc)) - PROCESSED_TTL
    return ProcessedUpdate.delete().where(ProcessedUpdate.at < cutoff).execute()
