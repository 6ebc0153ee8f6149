"""Versioned schema migrations: `upgrade(db)` applies what the database lacks, each step recorded in SchemaVersion."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Callable

from peewee import Database, EnclosedNodeList, Field, ForeignKeyField, IntegrityError, Model, SqliteDatabase, fn, sort_models
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from engine.store.models import (
    ALL_MODELS, NO_DEADLINE, AccountToken, ConfigVersion, Counter, Delivery, Message, Notification, SchemaVersion,
    SearchFeedback, SlaClock, Ticket, Timer, User, UTCDateTimeField, WebSession,
)

TICKET_COUNTER = "ticket_number"
FIRST_TICKET_NUMBER = 1001


@dataclass(frozen=True)
class Migration:
    """One schema step; `adds` (fields) and `creates` (tables) name what it introduces, so version 1 is built without them."""

    version: int
    description: str
    apply: Callable[[Database], None]
    adds: dict[type[Model], frozenset[str]] = field(default_factory=dict)
    creates: tuple[type[Model], ...] = ()
    # Model -> the shape it had before this step (a subclass with the columns the step drops), for building version 1.
    drops: dict[type[Model], type[Model]] = field(default_factory=dict)


class TicketBeforeTimers(Ticket):
    """The ticket table up to version 4: its auto-close and reminder deadlines were columns until 5 made them Timers."""

    auto_close_at = UTCDateTimeField(null=True, index=True)
    reminder_at = UTCDateTimeField(null=True, index=True)
    reminder_sent_at = UTCDateTimeField(null=True)
    sla_due_at = UTCDateTimeField(null=True)  # (migration 11's column) without Ticket's default: rows of this shape omit it

    class Meta:
        table_name = "ticket"
        legacy_table_names = False  # index names from the table name, as Ticket's: ticket_auto_close_at


def _migrator(db: Database):
    return SqliteMigrator(db) if isinstance(db, SqliteDatabase) else PostgresqlMigrator(db)


def _later_fields(model: type[Model], after: int = 1) -> frozenset[str]:
    return frozenset().union(*(m.adds.get(model, frozenset()) for m in MIGRATIONS if m.version > after))


def _create_table(db: Database, model: type[Model], skip: frozenset[str]) -> None:
    """CREATE TABLE (and its indexes) from the model minus the fields later migrations add."""
    fields = [f for f in model._meta.sorted_fields if f.name not in skip]
    ctx = model._schema._create_context()
    ctx.literal("CREATE TABLE IF NOT EXISTS ").sql(model).literal(" ")
    constraints = [f.foreign_key_constraint() for f in fields if isinstance(f, ForeignKeyField)]
    ctx.sql(EnclosedNodeList([f.ddl(ctx) for f in fields] + constraints))
    db.execute(ctx)
    _create_indexes(db, model, skip)


def _create_indexes(db: Database, model: type[Model], skip: frozenset[str]) -> None:
    """CREATE INDEX IF NOT EXISTS for the model's indexes, but none on a field in `skip` or on a missing column."""
    # A table adopted from newer models (made before migrations existed) lacks the columns later steps dropped.
    present = {c.name for c in db.get_columns(model._meta.table_name)}
    for index in model._meta.fields_to_index():
        indexed = [e for e in index._expressions if isinstance(e, Field)]
        if not skip & {f.name for f in indexed} and {f.column_name for f in indexed} <= present:
            db.execute(model._schema._create_index(index, safe=True))


def _first_shape(model: type[Model]) -> type[Model]:
    """The model as version 1 built it: the shape before the first step that dropped some of its columns."""
    return next((m.drops[model] for m in MIGRATIONS if model in m.drops), model)


def _v1_initial(db: Database) -> None:
    later_tables = {model for m in MIGRATIONS if m.version > 1 for model in m.creates}
    for model in sort_models(ALL_MODELS):
        if model not in later_tables:
            _create_table(db, _first_shape(model), _later_fields(model))


def _v2_ticket_closed_at(db: Database) -> None:
    """When a ticket was archived: the archive lists newest-closed first."""
    if "closed_at" not in {c.name for c in db.get_columns(Ticket._meta.table_name)}:
        migrate(_migrator(db).add_column(Ticket._meta.table_name, "closed_at", Ticket.closed_at))
    Ticket.update(closed_at=Ticket.updated_at).where((Ticket.status == "archived") & Ticket.closed_at.is_null()).execute()


def _v3_ticket_counter(db: Database) -> None:
    """Ticket numbers from a counter row: its row lock serializes creators on PostgreSQL, where max+1 collided."""
    _create_table(db, Counter, frozenset())
    if not Counter.select().where(Counter.name == TICKET_COUNTER).exists():
        top = Ticket.select(fn.MAX(Ticket.number)).scalar()
        Counter.create(name=TICKET_COUNTER, value=top or FIRST_TICKET_NUMBER - 1)


def _v4_web_sessions(db: Database) -> None:
    """Server-side web sessions: signing out ends a session even where its cookie was copied."""
    _create_table(db, WebSession, frozenset())


def _v5_timers(db: Database) -> None:
    """Ticket deadlines become rows of one Timer table: tickets waiting with a deadline get their pending timers,
    a reminder already sent a fired one; then the ticket's deadline columns go."""
    _create_table(db, Timer, frozenset())
    legacy = TicketBeforeTimers
    if "auto_close_at" not in {c.name for c in db.get_columns(legacy._meta.table_name)}:
        return  # tables made from the current models: nothing to carry over
    waiting = legacy.select(
        legacy.id, legacy.updated_at, legacy.waiting_since, legacy.auto_close_at, legacy.reminder_at, legacy.reminder_sent_at,
    ).where((legacy.status == "waiting_customer") & legacy.auto_close_at.is_null(False))
    for ticket in waiting:
        since = ticket.waiting_since or ticket.updated_at
        Timer.create(kind="autoclose", ticket=ticket.id, due_at=ticket.auto_close_at, created_at=since, updated_at=since)
        if ticket.reminder_at is not None:
            sent = ticket.reminder_sent_at
            Timer.create(kind="remind", ticket=ticket.id, due_at=ticket.reminder_at, state="fired" if sent else "pending",
                         payload={"auto_close_at": ticket.auto_close_at.isoformat()}, created_at=since,
                         updated_at=sent or since)
    if isinstance(db, SqliteDatabase) and sqlite3.sqlite_version_info < (3, 35):
        return  # no DROP COLUMN before SQLite 3.35: the unused columns stay, nullable
    for column in ("auto_close_at", "reminder_at", "reminder_sent_at"):
        db.execute_sql(f'DROP INDEX IF EXISTS "ticket_{column}"')
        db.execute_sql(f'ALTER TABLE "ticket" DROP COLUMN "{column}"')


def _v6_list_indexes(db: Database) -> None:
    """Indexes for every list's filter and keyset order, the conversation's pages and the unread badge (partial:
    unread rows only), so pages cost the same at 100,000 tickets as at 10 (the models declare them). IF NOT EXISTS:
    a database built by version 1 from the current models has them already."""
    for model in (Ticket, Message, Notification, Delivery):
        _create_indexes(db, model, _later_fields(model, after=6))


def _v7_config_versions(db: Database) -> None:
    """Config bundles in the database: every process on every host serves the stored version, not its own disk."""
    _create_table(db, ConfigVersion, frozenset())


def _v8_internal_notes(db: Database) -> None:
    """Staff-only notes are messages flagged internal; every message before them was customer-visible."""
    if "internal" not in {c.name for c in db.get_columns(Message._meta.table_name)}:
        migrate(_migrator(db).add_column(Message._meta.table_name, "internal", Message.internal))


def _v9_account_tokens(db: Database) -> None:
    """Self-service accounts: user.email_verified_at (accounts made before count as verified) and emailed tokens."""
    if "email_verified_at" not in {c.name for c in db.get_columns(User._meta.table_name)}:
        migrate(_migrator(db).add_column(User._meta.table_name, "email_verified_at", User.email_verified_at))
        User.update(email_verified_at=User.created_at).execute()
    _create_table(db, AccountToken, frozenset())


def _v11_sla(db: Database) -> None:
    """SLA targets (SlaClock) and ticket.sla_due_at, the queue's "time to breach" key, with its indexes; tickets
    made before have no SLA (NO_DEADLINE)."""
    _create_table(db, SlaClock, frozenset())
    if "sla_due_at" not in {c.name for c in db.get_columns(Ticket._meta.table_name)}:
        migrate(_migrator(db).add_column(Ticket._meta.table_name, "sla_due_at", Ticket.sla_due_at))
    Ticket.update(sla_due_at=NO_DEADLINE).where(Ticket.sla_due_at.is_null()).execute()
    _create_indexes(db, Ticket, _later_fields(Ticket, after=11))


def _v15_teams(db: Database) -> None:
    """Teams and assignment: ticket.team (config/teams.yaml) and ticket.assignee, the queue indexes of both, and
    ticket events wide enough to hold a team id (SQLite does not enforce a VARCHAR's length)."""
    present = {c.name for c in db.get_columns(Ticket._meta.table_name)}
    added = [(name, field) for name, field in (("team", Ticket.team), ("assignee_id", Ticket.assignee)) if name not in present]
    if added:
        migrate(*(_migrator(db).add_column(Ticket._meta.table_name, name, field) for name, field in added))
    _create_indexes(db, Ticket, _later_fields(Ticket, after=15))
    if not isinstance(db, SqliteDatabase):
        db.execute_sql('ALTER TABLE "ticketevent" ALTER COLUMN "old" TYPE VARCHAR(40), ALTER COLUMN "new" TYPE VARCHAR(40)')


def _v10_telegram_id(db: Database) -> None:
    """Telegram-first customers: an account bound to a numeric Telegram user id (unique: one account per person)."""
    if "telegram_id" not in {c.name for c in db.get_columns(User._meta.table_name)}:
        migrate(_migrator(db).add_column(User._meta.table_name, "telegram_id", User.telegram_id))
    _create_indexes(db, User, frozenset())


def _v12_user_time_zone(db: Database) -> None:
    """Each person's time zone for the times shown to them; null (everyone before) means `policies.time_zone`."""
    if "time_zone" not in {c.name for c in db.get_columns(User._meta.table_name)}:
        migrate(_migrator(db).add_column(User._meta.table_name, "time_zone", User.time_zone))


# Full-text search of tickets (engine.ticket_search), kept in sync by the database itself on every insert, update and
# delete, whoever writes. SQLite: FTS5 tables filled by triggers (a ticket's number, subject and field values; each
# message's body). PostgreSQL: GIN indexes on the 'russian' text-search vectors (Russian stems, English words through
# its English stemmer), which PostgreSQL maintains. Creating them indexes the existing rows.
_SQLITE_TICKET_TEXT = ("(SELECT group_concat(value, ' ') FROM json_tree({row}.fields) "
                       "WHERE type IN ('text', 'integer', 'real'))")
SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS message_fts USING fts5(body, content='message', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS message_fts_insert AFTER INSERT ON message BEGIN "
    "INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS message_fts_delete AFTER DELETE ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS message_fts_update AFTER UPDATE OF body ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body); END",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS ticket_fts USING fts5(number, subject, field_values, "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS ticket_fts_insert AFTER INSERT ON ticket BEGIN "
    "INSERT INTO ticket_fts(rowid, number, subject, field_values) VALUES "
    f"(new.id, new.number, new.subject, {_SQLITE_TICKET_TEXT.format(row='new')}); END",
    "CREATE TRIGGER IF NOT EXISTS ticket_fts_delete AFTER DELETE ON ticket BEGIN "
    "DELETE FROM ticket_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS ticket_fts_update AFTER UPDATE OF number, subject, fields ON ticket BEGIN "
    "DELETE FROM ticket_fts WHERE rowid = old.id; "
    "INSERT INTO ticket_fts(rowid, number, subject, field_values) VALUES "
    f"(new.id, new.number, new.subject, {_SQLITE_TICKET_TEXT.format(row='new')}); END",
    "DELETE FROM ticket_fts",
    "INSERT INTO ticket_fts(rowid, number, subject, field_values) "
    f"SELECT id, number, subject, {_SQLITE_TICKET_TEXT.format(row='ticket')} FROM ticket",
)
# The index expressions; engine.ticket_search matches with exactly these, so PostgreSQL uses the indexes. Cyrillic is
# lowercased by translate(), ё read as е: to_tsvector's lowercasing follows the database's locale, and a database made
# with the C locale (initdb --no-locale) folds only ASCII.
_POSTGRES_FOLD = "translate({}, 'АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯЁё', 'абвгдежзийклмнопрстуфхцчшщъыьэюяее')"
_TICKET_TEXT = "number::text || ' ' || subject"
POSTGRES_TICKET_VECTOR = (f"(to_tsvector('russian', {_POSTGRES_FOLD.format(_TICKET_TEXT)}) || "
                          f"jsonb_to_tsvector('russian', {_POSTGRES_FOLD.format('fields')}::jsonb, '[\"string\", \"numeric\"]'))")
POSTGRES_MESSAGE_VECTOR = f"to_tsvector('russian', {_POSTGRES_FOLD.format('body')})"
POSTGRES_SEARCH = (
    f"CREATE INDEX IF NOT EXISTS ticket_search ON ticket USING GIN ({POSTGRES_TICKET_VECTOR})",
    f"CREATE INDEX IF NOT EXISTS message_search ON message USING GIN ({POSTGRES_MESSAGE_VECTOR})",
)


def _v13_ticket_search(db: Database) -> None:
    """Full-text search over ticket numbers, subjects, field values and messages, existing rows indexed now."""
    for statement in SQLITE_SEARCH if isinstance(db, SqliteDatabase) else POSTGRES_SEARCH:
        db.execute_sql(statement)


def _v14_search_feedback(db: Database) -> None:
    """Search feedback for business staff: phrases the topic search did not serve, counted without any user."""
    _create_table(db, SearchFeedback, frozenset())


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _v1_initial),
    Migration(2, "ticket.closed_at", _v2_ticket_closed_at, adds={Ticket: frozenset({"closed_at"})}),
    Migration(3, "ticket number counter", _v3_ticket_counter, creates=(Counter,)),
    Migration(4, "web sessions", _v4_web_sessions, creates=(WebSession,)),
    Migration(5, "timers table", _v5_timers, creates=(Timer,), drops={Ticket: TicketBeforeTimers}),
    Migration(6, "list indexes", _v6_list_indexes),
    Migration(7, "config versions", _v7_config_versions, creates=(ConfigVersion,)),
    Migration(8, "message.internal (staff notes)", _v8_internal_notes, adds={Message: frozenset({"internal"})}),
    Migration(9, "account tokens, user.email_verified_at", _v9_account_tokens,
              adds={User: frozenset({"email_verified_at"})}, creates=(AccountToken,)),
    Migration(10, "user.telegram_id (Telegram-first customers)", _v10_telegram_id,
              adds={User: frozenset({"telegram_id"})}),
    Migration(11, "SLA clocks, ticket.sla_due_at", _v11_sla, adds={Ticket: frozenset({"sla_due_at"})}, creates=(SlaClock,)),
    Migration(12, "user.time_zone", _v12_user_time_zone, adds={User: frozenset({"time_zone"})}),
    Migration(13, "ticket full-text search", _v13_ticket_search),
    Migration(14, "search feedback", _v14_search_feedback, creates=(SearchFeedback,)),
    Migration(15, "ticket.team, ticket.assignee and their queue indexes", _v15_teams,
              adds={Ticket: frozenset({"team", "assignee"})}),
)
LATEST = MIGRATIONS[-1].version


def current_version(db: Database) -> int:
    """The highest applied version; 0 for an empty database."""
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    return SchemaVersion.select(SchemaVersion.version).order_by(SchemaVersion.version.desc()).scalar() or 0


def upgrade(db: Database, target: int | None = None) -> list[int]:
    """Apply pending migrations up to `target` (default: the latest), each in its own transaction; returns them."""
    target = LATEST if target is None else target
    applied = []
    for migration in MIGRATIONS:
        if migration.version > target or migration.version <= current_version(db):
            continue
        try:
            with db.atomic():
                migration.apply(db)
                SchemaVersion.create(version=migration.version)
        except IntegrityError:
            # Another process recorded this version first; its transaction did the work.
            continue
        applied.append(migration.version)
    return applied
