"""A customer's data rights: export everything of one customer as a zip, or erase their personal data while the
tickets stay in the statistics.

Export (`export_customer`): `account.json` (the account, its Telegram links and notification choices),
`tickets.json` (tickets with their customer-visible messages and attachment entries), `notifications.json`, and every
attachment's file under `attachments/<ticket number>/<attachment id>-<name>`. Staff-only notes are not the customer's
and are left out.

Erase (`erase_customer`): the tickets keep their number, category, topic, priority, status, channel, timestamps and
events, and the messages their authors and times; the subject, field values, every message body (staff replies
quote the customer too) and every attachment go; the account is deactivated with its name, addresses, Telegram
identity and links, conversation state, sessions, tokens, preferences and notifications removed. Both write an
audit row naming the account by id only.
"""
from __future__ import annotations

import json
import logging
import zipfile
from dataclasses import asdict, dataclass
from typing import BinaryIO

from peewee import JOIN

from engine import audit, live_cache
from engine.errors import BlobNotFound, PermissionDenied, StorageUnavailable
from engine.runtime import Runtime
from engine.store.models import (
    AccountToken, Attachment, AuditLog, BotConversation, LinkToken, Message, Notification, NotificationPreference,
    TelegramLink, Ticket, User, WebSession,
)

log = logging.getLogger(__name__)

ERASED_SUBJECT = "—"
ERASED_DOMAIN = "erased.invalid"


@dataclass(frozen=True)
class EraseReport:
    user_id: int
    tickets: int
    messages: int
    files: int
    notifications: int
    telegram_links: int


def _customer(user: User) -> None:
    if user.role != "customer":
        raise PermissionDenied("data export and erasure are for customer accounts")


def _when(value) -> str | None:
    return value.isoformat() if value is not None else None


def _audit(action: str, user: User, actor: User | None, by: str, **detail) -> None:
    AuditLog.create(actor=actor, action=action, detail={"user_id": user.id, "by": by, **detail})


def export_customer(rt: Runtime, user: User, out: BinaryIO, actor: User | None = None, by: str = "") -> int:
    """Write the customer's zip to `out`; returns the number of tickets. A file the store lost is listed as missing."""
    _customer(user)
    tickets = list(Ticket.select().where(Ticket.customer == user).order_by(Ticket.number))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("account.json", _json(_account(user)))
        archive.writestr("tickets.json", _json([_ticket(rt, archive, ticket) for ticket in tickets]))
        notifications = (Notification.select(Notification, Ticket).join(Ticket, JOIN.LEFT_OUTER)
                         .where(Notification.user == user).order_by(Notification.id))
        archive.writestr("notifications.json", _json([{
            "type": n.type_id, "params": n.params, "ticket_number": n.ticket.number if n.ticket_id else None,
            "created_at": _when(n.created_at), "read_at": _when(n.read_at), "in_app": n.in_app,
        } for n in notifications]))
    _audit("customer_export", user, actor, by, tickets=len(tickets))
    return len(tickets)


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)


def _account(user: User) -> dict:
    links = TelegramLink.select().where(TelegramLink.user == user).order_by(TelegramLink.id)
    choices = NotificationPreference.select().where(NotificationPreference.user == user)
    return {
        "id": user.id, "email": user.email, "name": user.name, "locale": user.locale, "created_at": _when(user.created_at),
        "email_verified_at": _when(user.email_verified_at), "external_id": user.external_id,
        "notify_emails": user.notify_emails or [], "telegram_username": user.telegram_username,
        "telegram_id": user.telegram_id, "support_in_telegram": user.support_in_telegram,
        "telegram_links": [{"binding": link.binding, "chat_id": link.chat_id, "telegram_user_id": link.tg_user_id,
                            "username": link.tg_username, "active": link.active, "linked_at": _when(link.linked_at)}
                           for link in links],
        "notification_choices": [{"type": p.type_id, "channel": p.channel, "enabled": p.enabled} for p in choices],
    }


def _ticket(rt: Runtime, archive: zipfile.ZipFile, ticket: Ticket) -> dict:
    messages = []
    for message in (Message.select().where((Message.ticket == ticket) & ~Message.internal).order_by(Message.id)):
        files = []
        for attachment in Attachment.select().where(Attachment.message == message).order_by(Attachment.id):
            path = f"attachments/{ticket.number}/{attachment.id}-{attachment.original_name}"
            entry = {"name": attachment.original_name, "content_type": attachment.content_type, "size": attachment.size,
                     "file": path}
            try:
                archive.writestr(path, rt.blobs.read(attachment.sha256))
            except BlobNotFound:
                entry["file"], entry["missing"] = None, True
            files.append(entry)
        messages.append({"at": _when(message.created_at), "from": message.author_kind, "channel": message.channel,
                         "body": message.body, "attachments": files})
    return {
        "number": ticket.number, "subject": ticket.subject, "status": ticket.status, "priority": ticket.priority,
        "category": ticket.snapshot.get("category_title", ticket.category_id),
        "topic": ticket.snapshot.get("topic_title", ticket.topic_id), "fields": ticket.fields,
        "channel": ticket.channel, "created_at": _when(ticket.created_at), "updated_at": _when(ticket.updated_at),
        "closed_at": _when(ticket.closed_at), "messages": messages,
    }


def erase_customer(rt: Runtime, user: User, actor: User | None = None, by: str = "") -> EraseReport:
    """Anonymise the customer (see the module docstring); files no other ticket uses leave the attachment store."""
    _customer(user)
    with rt.db.atomic():
        ticket_ids = [t.id for t in Ticket.select(Ticket.id).where(Ticket.customer == user)]
        in_tickets = Ticket.id.in_(ticket_ids)
        files = list(Attachment.select(Attachment.id, Attachment.sha256).where(Attachment.ticket.in_(ticket_ids)))
        Attachment.delete().where(Attachment.id.in_([f.id for f in files])).execute()
        messages = Message.update(body="").where(Message.ticket.in_(ticket_ids)).execute()
        Ticket.update(subject=ERASED_SUBJECT, fields={}, idempotency_key=None).where(in_tickets).execute()
        # Notifications about these tickets carry their subjects and replies, whoever received them.
        notifications = Notification.delete().where(
            (Notification.user == user) | Notification.ticket.in_(ticket_ids)).execute()
        links = list(TelegramLink.select().where(TelegramLink.user == user))
        for link in links:
            BotConversation.delete().where((BotConversation.binding == link.binding)
                                           & (BotConversation.chat_id == link.chat_id)).execute()
        for model in (TelegramLink, LinkToken, AccountToken, WebSession, NotificationPreference):
            model.delete().where(model.user == user).execute()
        User.update(email=f"erased-{user.id}@{ERASED_DOMAIN}", name="", password_hash="", external_id=None,
                    notify_emails=[], telegram_username=None, telegram_id=None, support_in_telegram=False,
                    is_active=False, email_verified_at=None).where(User.id == user.id).execute()
        # Its sessions ended, and others' unread counts lost the notifications about its tickets.
        live_cache.changed(live_cache.EVERYTHING)
        report = EraseReport(user.id, len(ticket_ids), messages, len(files), notifications, len(links))
        audit.forget_email(user)  # account changes (engine.audit) named the address
        _audit("customer_erase", user, actor, by, **{k: v for k, v in asdict(report).items() if k != "user_id"})
    _delete_unused_blobs(rt, {f.sha256 for f in files})
    return report


def _delete_unused_blobs(rt: Runtime, digests: set[str]) -> None:
    """Delete the erased files' contents unless another ticket holds the same file (the store is by content)."""
    still_used = {a.sha256 for a in Attachment.select(Attachment.sha256).where(Attachment.sha256.in_(list(digests)))}
    for digest in digests - still_used:
        try:
            rt.blobs.delete(digest)
        except StorageUnavailable:  # the rows are gone: `run.py attachments gc` deletes the content later
            log.warning("attachment store unavailable: erased file %s is left for the garbage collector", digest[:12])
