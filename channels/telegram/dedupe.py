"""Each Telegram update_id counts once: claimed in the database before it is handled (at most once)."""
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


def prune_processed(now: datetime | None = None) -> int:
    """Forget update ids older than Telegram would ever deliver again."""
    cutoff = (now or datetime.now(timezone.utc)) - PROCESSED_TTL
    return ProcessedUpdate.delete().where(ProcessedUpdate.at < cutoff).execute()
