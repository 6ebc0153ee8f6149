"""Merge one customer account into another: every row that refers to the source moves to the target (tickets,
messages, notifications, Telegram links, ticket events, ...), the source's sessions, tokens and preferences go,
then the source itself; one transaction, one audit row."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from engine import live_cache
from engine.runtime import Runtime
from engine.store.models import (
    AccountToken, AuditLog, LinkToken, Message, Notification, NotificationPreference, TelegramLink, Ticket, User,
    WebSession,
)

# Rows of the source that mean nothing for the target: deleted, not moved.
DROPPED = (WebSession, AccountToken, LinkToken, NotificationPreference)


@dataclass(frozen=True)
class MergeReport:
    source_id: int
    target_id: int
    tickets: int
    messages: int
    notifications: int
    telegram_links: int


def refusal(source: User, target: User) -> str | None:
    """The validation text key saying why `source` cannot merge into `target`, or None."""
    if target.id == source.id:
        return "claim_same_account"
    if target.is_staff or source.is_staff or not target.is_active:
        return "claim_not_customer"
    if target.telegram_id is not None and source.telegram_id is not None and target.telegram_id != source.telegram_id:
        return "claim_other_telegram"
    return None


def merge(rt: Runtime, source: User, target: User, actor: User | None, reason: str) -> MergeReport:
    """Move everything of `source` to `target` and delete `source` (ValueError when `refusal` objects)."""
    problem = refusal(source, target)
    if problem:
        raise ValueError(problem)
    with rt.db.atomic():
        report = MergeReport(
            source.id, target.id,
            tickets=Ticket.select().where(Ticket.customer == source).count(),
            messages=Message.select().where(Message.author == source).count(),
            notifications=Notification.select().where(Notification.user == source).count(),
            telegram_links=TelegramLink.select().where(TelegramLink.user == source).count())
        # A ticket's idempotency key is unique per customer: the source's keys the target used too are dropped.
        taken = Ticket.select(Ticket.idempotency_key).where((Ticket.customer == target) & Ticket.idempotency_key.is_null(False))
        Ticket.update(idempotency_key=None).where((Ticket.customer == source) & Ticket.idempotency_key.in_(taken)).execute()
        for field in User._meta.backrefs:
            if field.model in DROPPED:
                field.model.delete().where(field == source.id).execute()
            elif field.model._meta.table_name != User._meta.table_name:
                field.model.update({field: target.id}).where(field == source.id).execute()
        telegram_id = source.telegram_id
        User.delete().where(User.id == source.id).execute()
        if telegram_id is not None and target.telegram_id is None:
            User.update(telegram_id=telegram_id).where(User.id == target.id).execute()
            target.telegram_id = telegram_id
        live_cache.changed(live_cache.user_tag(source.id), live_cache.user_tag(target.id),
                           live_cache.unread_tag(source.id), live_cache.unread_tag(target.id))
        AuditLog.create(actor=actor, action="account_merge", detail={"reason": reason, **asdict(report)})
    return report
