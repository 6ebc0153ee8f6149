"""Conversation state and handled update ids, kept in the database so a restarted bot resumes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from peewee import IntegrityError

from engine.store.models import BotConversation, ProcessedUpdate

PROCESSED_TTL = timedelta(days=2)  # Telegram keeps undelivered updates for 24 hours


def load(binding: str, chat_id: int) -> dict:
    row = BotConversation.get_or_none((BotConversation.binding == binding) & (BotConversation.chat_id == chat_id))
    return dict(row.state) if row else {}


def save(binding: str, chat_id: int, state: dict) -> None:
    """Upsert the chat's state (an empty dict means idle)."""
    now = datetime.now(timezone.utc)
    BotConversation.insert(binding=binding, chat_id=chat_id, state=state, updated_at=now).on_conflict(
        conflict_target=[BotConversation.binding, BotConversation.chat_id],
        update={BotConversation.state: state, BotConversation.updated_at: now},
    ).execute()


def claim_update(db, binding: str, update_id: int) -> bool:
    """Record the update as handled; False when it already was (a repeated delivery is ignored)."""
    try:
        with db.atomic():
            ProcessedUpdate.create(binding=binding, update_id=update_id)
        return True
    except IntegrityError:
        return False


def prune_processed(now: datetime | None = None) -> int:
    cutoff = (now or datetime.now(timezone.utc)) - PROCESSED_TTL
    return ProcessedUpdate.delete().where(ProcessedUpdate.at < cutoff).execute()
