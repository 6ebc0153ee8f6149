"""Each Telegram update_id counts once: claimed in the database before it is handled (at most once).

A claim handed back (`release_updates`) makes the update count again: the bot stopped before handling it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from peewee import IntegrityError

from engine.store.models import ProcessedUpdate

PROCESSED_TTL = timedelta(days=2)  # Telegram keeps undelivered updates for 24 hours


def claim_update(db, binding: str, update_id: int) -> bool:
    """Record the update as handled; False when it already was (a repeated delivery is ignored)."""
    try:
        with db.atomic():
            ProcessedUpdate.create(binding=binding, update_id=update_id)
        return True
    except IntegrityError:
        return False


def claim_updates(db, binding: str, update_ids: list[int]) -> set[int]:
    """Claim a getUpdates batch in one transaction; returns the ids not handled before (the ones to handle)."""
    if not update_ids:
        return set()
    try:
        with db.atomic():
            seen = {row.update_id for row in ProcessedUpdate.select(ProcessedUpdate.update_id).where(
                (ProcessedUpdate.binding == binding) & ProcessedUpdate.update_id.in_(update_ids))}
            fresh = [i for i in dict.fromkeys(update_ids) if i not in seen]
            if fresh:
                ProcessedUpdate.insert_many([{"binding": binding, "update_id": i} for i in fresh]).execute()
        return set(fresh)
    except IntegrityError:  # another process claimed one of them meanwhile: claim one by one
        return {i for i in update_ids if claim_update(db, binding, i)}


def release_updates(binding: str, update_ids: list[int]) -> None:
    """Hand claimed updates back: they were not handled, and Telegram delivers them again (not confirmed)."""
    if update_ids:
        ProcessedUpdate.delete().where((ProcessedUpdate.binding == binding)
                                       & ProcessedUpdate.update_id.in_(update_ids)).execute()


def prune_processed(now: datetime | None = None) -> int:
    """Forget update ids older than Telegram would ever deliver again."""
    cutoff = (now or datetime.now(timezone.utc)) - PROCESSED_TTL
    return ProcessedUpdate.delete().where(ProcessedUpdate.at < cutoff).execute()
