"""peewee models: the engine's whole schema. Times are timezone-aware UTC; JSON is stored as text.

A column or table added after schema version 1 needs a migration in engine/store/migrations.py.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache

from peewee import (
    AutoField, BigIntegerField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model,
    TextField,
)

from engine.store.db import database


NO_DEADLINE = datetime(9999, 1, 1, tzinfo=timezone.utc)  # Ticket.sla_due_at of a ticket no SLA target runs for


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTimeField(DateTimeField):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    def db_value(self, value):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        if isinstance(value, str) and len(value) > 10:  # SQLite's naive UTC text: 0.2 us, 3-4 us through peewee
            try:
                return datetime.fromisoformat(value + "+00:00")
            except ValueError:
                pass
        value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class JSONField(TextField):
    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class SnapshotField(JSONField):
    """A ticket's snapshot: written once, when the ticket is created, and only read after. Tickets of one topic and
    catalog version store the same text, so rows share one decoded value (a 1 KB decode per row of every list was
    13 us): treat it as read-only."""

    def python_value(self, value):
        return None if value is None else _decoded_snapshot(value)


_decoded_snapshot = lru_cache(maxsize=512)(json.loads)


class BaseModel(Model):
    class Meta:
        database = database


class User(BaseModel):
    """A customer, agent or admin account."""

    id = AutoField()
    email = CharField(max_length=254, unique=True)
    name = CharField(max_length=200, default="")
    password_hash = CharField(max_length=255, default="")
    role = CharField(max_length=16, default="customer", index=True)  # customer | agent | admin
    locale = CharField(max_length=8, default="ru")
    external_id = CharField(max_length=100, null=True, unique=True)  # id in the billing system (events API)
    notify_emails = JSONField(default=list)  # extra addresses that receive email notifications
    telegram_username = CharField(max_length=64, null=True, index=True)  # seed 000: entered without @
    support_in_telegram = BooleanField(default=False)  # "Включить работу с поддержкой"
    is_active = BooleanField(default=True)
    created_at = UTCDateTimeField(default=utcnow)
    email_verified_at = UTCDateTimeField(null=True)  # null: signed up and not yet confirmed the address
    telegram_id = BigIntegerField(null=True, unique=True)  # the numeric Telegram user id the account is bound to
    time_zone = CharField(max_length=64, null=True)  # IANA zone times are shown in; null: policies.time_zone

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_team_account(self) -> bool:
        """The account a team's own addresses (config/teams.yaml `notify`) receive notifications as: no sign-in."""
        return self.role == TEAM_ROLE


TEAM_ROLE = "team"
STAFF_ROLES = ("agent", "admin")


class WebSession(BaseModel):
    """A signed-in browser session; the cookie holds a random token, only its SHA-256 is stored here."""

    key = CharField(max_length=64, primary_key=True)
    user = ForeignKeyField(User, backref="web_sessions", on_delete="CASCADE")
    created_at = UTCDateTimeField(default=utcnow)
    seen_at = UTCDateTimeField(default=utcnow, index=True)


class Ticket(BaseModel):
    id = AutoField()
    number = IntegerField(unique=True)  # human-friendly, shown as #number
    customer = ForeignKeyField(User, backref="tickets", on_delete="CASCADE")
    category_id = CharField(max_length=40)
    topic_id = CharField(max_length=40)
    priority = CharField(max_length=10, index=True)  # low | normal | high | urgent
    status = CharField(max_length=24, index=True)  # new | waiting_support | waiting_customer | archived
    subject = CharField(max_length=300)
    fields = JSONField(default=dict)  # submitted values by field id (attachments excluded)
    snapshot = SnapshotField(default=dict)  # topic/category title, priority hint, field labels, catalog version
    channel = CharField(max_length=16)  # web | telegram | api
    idempotency_key = CharField(max_length=100, null=True)
    closed_reason = CharField(max_length=16, null=True)  # customer | staff | auto
    closed_at = UTCDateTimeField(null=True, index=True)  # added by migration 2 (the archive is sorted by it)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow, index=True)
    waiting_since = UTCDateTimeField(null=True)  # when it started waiting for the customer
    team = CharField(max_length=40, null=True)  # migration 15: a team id of config/teams.yaml (routing, staff moves)
    assignee = ForeignKeyField(User, null=True, backref="assigned_tickets", on_delete="SET NULL")  # migration 15
    # Its deadlines (auto-close, the reminder) are Timer rows since migration 5.
    # Migration 11: the earliest due instant of its running SLA targets (engine/sla.py), NO_DEADLINE when none runs
    # (never NULL, so the queue's "time to breach" keyset compares plain values).
    sla_due_at = UTCDateTimeField(null=True, default=NO_DEADLINE)

    class Meta:
        indexes = (
            (("customer", "idempotency_key"), True),
            # Migration 6: one index range per list and filter (engine/ticket_queries.py).
            (("customer", "status", "updated_at", "id"), False),  # my tickets
            (("customer", "status", "closed_at", "id"), False),  # the archive
            (("status", "priority", "updated_at", "id"), False),  # the queue
            (("category_id", "status", "priority", "updated_at", "id"), False),  # the queue of a category
            (("category_id", "topic_id", "status", "priority", "updated_at", "id"), False),  # ... of a topic
            # Migration 11: the queue by time to breach, and its category and topic filters.
            (("status", "sla_due_at", "id"), False),
            (("category_id", "status", "sla_due_at", "id"), False),
            (("category_id", "topic_id", "status", "sla_due_at", "id"), False),
            # Migration 15: the queue of a team, of an assignee (or of nobody: IS NULL), of both.
            (("team", "status", "priority", "updated_at", "id"), False),
            (("assignee", "status", "priority", "updated_at", "id"), False),
            (("team", "assignee", "status", "priority", "updated_at", "id"), False),
        )


class Timer(BaseModel):
    """A deadline of a ticket: when `due_at` passes, the handler of its `kind` runs once (engine/timers.py)."""

    id = AutoField()
    kind = CharField(max_length=40)  # a registered TimerKind name: remind | autoclose | ...
    ticket = ForeignKeyField(Ticket, backref="timers", on_delete="CASCADE")
    due_at = UTCDateTimeField()
    state = CharField(max_length=12, default="pending")  # pending | fired | cancelled | failed
    payload = JSONField(default=dict)  # what the handler needs that the ticket does not hold
    attempts = IntegerField(default=0)  # handler runs that raised
    last_error = TextField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("state", "due_at"), False),)  # due pending timers


# At most one pending timer of a kind per ticket: rescheduling replaces it (PostgreSQL and SQLite partial index).
Timer.add_index(Timer.index(Timer.ticket, Timer.kind, unique=True, where=(Timer.state == "pending")))


class SlaClock(BaseModel):
    """One SLA target of a ticket (engine/sla.py): its business-time budget and where it stands."""

    id = AutoField()
    ticket = ForeignKeyField(Ticket, backref="sla_clocks", on_delete="CASCADE")
    target = CharField(max_length=20)  # first_response | resolution
    calendar_id = CharField(max_length=40)  # the sla.yaml calendar it counts in
    limit_seconds = IntegerField()  # business time allowed, chosen when the ticket was created
    state = CharField(max_length=10, default="running")  # running | paused | met | stopped
    due_at = UTCDateTimeField()  # the breach instant (while paused: the one it had when it paused)
    remaining_seconds = IntegerField(null=True)  # business time left when it paused (0: already breached)
    started_at = UTCDateTimeField(default=utcnow)
    met_at = UTCDateTimeField(null=True)
    warned_at = UTCDateTimeField(null=True)
    breached_at = UTCDateTimeField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("ticket", "target"), True),)


class Message(BaseModel):
    id = AutoField()
    ticket = ForeignKeyField(Ticket, backref="messages", on_delete="CASCADE")
    author = ForeignKeyField(User, null=True, backref="messages")  # null for system messages
    author_kind = CharField(max_length=10)  # customer | agent | system
    channel = CharField(max_length=16)
    body = TextField(default="")
    created_at = UTCDateTimeField(default=utcnow, index=True)
    internal = BooleanField(default=False)  # a staff-only note: never shown or sent to the customer

    class Meta:
        indexes = ((("ticket", "id"), False),)  # migration 6: a conversation's latest page, a poll's newest id


class Attachment(BaseModel):
    """A stored file; its content is in the attachment store (engine.blobstore) under `sha256`."""

    id = AutoField()
    ticket = ForeignKeyField(Ticket, backref="attachments", on_delete="CASCADE")
    message = ForeignKeyField(Message, null=True, backref="attachments", on_delete="CASCADE")
    sha256 = CharField(max_length=64, index=True)
    original_name = CharField(max_length=255)  # sanitized, for display only
    content_type = CharField(max_length=100)
    size = IntegerField()
    created_at = UTCDateTimeField(default=utcnow)


class TicketEvent(BaseModel):
    """Every status or priority change of a ticket, with who did it."""

    id = AutoField()
    ticket = ForeignKeyField(Ticket, backref="events", on_delete="CASCADE")
    actor = ForeignKeyField(User, null=True)
    kind = CharField(max_length=16)  # status | priority | team | assignee (user id; "" for nobody)
    old = CharField(max_length=40, null=True)  # 24 until migration 15 (a team id is up to 40)
    new = CharField(max_length=40)
    reason = CharField(max_length=32, default="")
    at = UTCDateTimeField(default=utcnow)


class TelegramLink(BaseModel):
    """A Telegram chat linked to a customer for one bot binding, bound to the numeric Telegram user id."""

    id = AutoField()
    user = ForeignKeyField(User, backref="telegram_links", on_delete="CASCADE")
    binding = CharField(max_length=40)  # channel binding id from config/notifications/channels.yaml
    chat_id = BigIntegerField()
    tg_user_id = BigIntegerField()
    tg_username = CharField(max_length=64, null=True)
    active = BooleanField(default=True)
    deactivated_reason = CharField(max_length=200, null=True)
    linked_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("binding", "chat_id"), True),)


class LinkToken(BaseModel):
    """One-time token for linking a Telegram chat; only the SHA-256 of the token is stored."""

    id = AutoField()
    token_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, on_delete="CASCADE")
    binding = CharField(max_length=40, null=True)
    expires_at = UTCDateTimeField()
    used_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)


class AccountToken(BaseModel):
    """A one-time emailed link (verify the address, reset the password); only the SHA-256 of the token is stored."""

    id = AutoField()
    token_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, on_delete="CASCADE")
    purpose = CharField(max_length=16)  # verify | reset | magic | claim | invite
    expires_at = UTCDateTimeField()
    used_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)


class NotificationPreference(BaseModel):
    """An explicit per-type, per-channel choice; absent rows fall back to the type's default_channels."""

    id = AutoField()
    user = ForeignKeyField(User, backref="preferences", on_delete="CASCADE")
    type_id = CharField(max_length=40)
    channel = CharField(max_length=16)  # web | email | telegram
    enabled = BooleanField()

    class Meta:
        indexes = ((("user", "type_id", "channel"), True),)


class Notification(BaseModel):
    """One notification to one person; its deliveries are the outbox."""

    id = AutoField()
    user = ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    type_id = CharField(max_length=40)
    params = JSONField(default=dict)
    ticket = ForeignKeyField(Ticket, null=True, backref="notifications", on_delete="CASCADE")
    idempotency_key = CharField(max_length=200, null=True, unique=True)
    created_at = UTCDateTimeField(default=utcnow)
    read_at = UTCDateTimeField(null=True)  # web channel: in-app list
    in_app = BooleanField(default=True)  # false when the customer switched the web channel off for this type


# Migration 6, partial indexes: a user's in-app list newest first (and its total, from the index alone), and the
# unread badge, which counts only the unread rows.
Notification.add_index(Notification.index(Notification.user, Notification.id, where=Notification.in_app,
                                          name="notification_in_app_user_id_id"))
Notification.add_index(Notification.index(Notification.user, where=Notification.read_at.is_null() & Notification.in_app,
                                          name="notification_unread_user_id"))


class Delivery(BaseModel):
    """Outbox row: one notification over one channel target. Written in the cause's transaction."""

    id = AutoField()
    notification = ForeignKeyField(Notification, backref="deliveries", on_delete="CASCADE")
    channel = CharField(max_length=16)  # email | telegram (web is the Notification row itself)
    target = CharField(max_length=254)  # binding id for telegram, address for email
    status = CharField(max_length=12, default="pending", index=True)  # pending | sending | sent | failed | skipped
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    next_attempt_at = UTCDateTimeField(default=utcnow, index=True)
    claimed_until = UTCDateTimeField(null=True)  # a worker's lease while it sends
    sent_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("notification", "channel", "target"), True),
            (("status", "id"), False),  # migration 6: the admin's failed and skipped deliveries, newest first
        )


class ApiToken(BaseModel):
    id = AutoField()
    name = CharField(max_length=100)
    token_hash = CharField(max_length=64, unique=True)
    created_at = UTCDateTimeField(default=utcnow)
    revoked_at = UTCDateTimeField(null=True)


class EventReceipt(BaseModel):
    """Idempotency record of the events API: the first answer for a key is replayed."""

    id = AutoField()
    idempotency_key = CharField(max_length=200, unique=True)
    response = JSONField()
    created_at = UTCDateTimeField(default=utcnow)


class BotConversation(BaseModel):
    """Telegram conversation state per bot and chat, so a restarted bot resumes where the user was."""

    id = AutoField()
    binding = CharField(max_length=40)
    chat_id = BigIntegerField()
    state = JSONField(default=dict)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("binding", "chat_id"), True),)


class ProcessedUpdate(BaseModel):
    """Telegram update ids already handled per bot: a repeated update is ignored."""

    id = AutoField()
    binding = CharField(max_length=40)
    update_id = BigIntegerField()
    at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("binding", "update_id"), True),)


class AuditLog(BaseModel):
    id = AutoField()
    at = UTCDateTimeField(default=utcnow, index=True)
    actor = ForeignKeyField(User, null=True)
    action = CharField(max_length=40)  # config_reload | staff_reply | priority | archive | ...
    detail = JSONField(default=dict)


class Counter(BaseModel):
    """A named sequence (ticket numbers): one row, incremented under its row lock inside the creating transaction."""

    name = CharField(max_length=40, primary_key=True)
    value = BigIntegerField()


class ConfigVersion(BaseModel):
    """One published config bundle (`config reload`): every process serves the newest one (engine.config_versions)."""

    number = IntegerField(primary_key=True)  # 1, 2, ...: assigned as the highest + 1 inside the storing transaction
    hash = CharField(max_length=64)  # sha256 of the bundle (engine.catalog.bundle.ConfigBundle.hash)
    catalog_version = CharField(max_length=12)  # the Catalog.version it loaded as where it was stored
    files = JSONField()  # [{"path": relative path, "sha256": hex, "data": base64 of the bytes}], sorted by path
    actor = CharField(max_length=200)  # an admin's email, "cli:<user>@<host>", "start:<user>@<host>"
    created_at = UTCDateTimeField(default=utcnow)
    comment = TextField(default="")
    summary = TextField(default="")  # what changed since the version before, one change a line


class SearchFeedback(BaseModel):
    """What customers typed into the topic search that did not lead them to a topic: anonymised (no user), counted.
    `topic_key` is the topic finally chosen ("" when the search found nothing); engine.search_feedback writes it."""

    id = AutoField()
    phrase = CharField(max_length=120)  # normalised: lower case, digits masked, at most 120 characters
    topic_key = CharField(max_length=81, default="")  # "category/topic" chosen after the search; "" for nothing found
    count = IntegerField(default=1)
    first_seen = UTCDateTimeField(default=utcnow)
    last_seen = UTCDateTimeField(default=utcnow)
    dismissed_at = UTCDateTimeField(null=True)  # hidden from the admin page until the phrase comes again

    class Meta:
        indexes = ((("phrase", "topic_key"), True),)


class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    applied_at = UTCDateTimeField(default=utcnow)


ALL_MODELS = (
    User, Ticket, Message, Attachment, TicketEvent, TelegramLink, LinkToken, NotificationPreference,
    Notification, Delivery, ApiToken, EventReceipt, BotConversation, ProcessedUpdate, AuditLog, Counter, SchemaVersion,
    WebSession, Timer, ConfigVersion, AccountToken, SlaClock, SearchFeedback,
)
