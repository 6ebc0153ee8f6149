"""Versioned schema migrations: `upgrade(db)` applies what the database lacks, each step recorded in SchemaVersion."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from peewee import Database, EnclosedNodeList, ForeignKeyField, IntegrityError, Model, SqliteDatabase, fn, sort_models
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from engine.store.models import ALL_MODELS, Counter, SchemaVersion, Ticket, WebSession

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


def _migrator(db: Database):
    return SqliteMigrator(db) if isinstance(db, SqliteDatabase) else PostgresqlMigrator(db)


def _later_fields(model: type[Model]) -> frozenset[str]:
    return frozenset().union(*(m.adds.get(model, frozenset()) for m in MIGRATIONS if m.version > 1))


def _create_table(db: Database, model: type[Model], skip: frozenset[str]) -> None:
    """CREATE TABLE (and its indexes) from the model minus the fields later migrations add."""
    fields = [f for f in model._meta.sorted_fields if f.name not in skip]
    ctx = model._schema._create_context()
    ctx.literal("CREATE TABLE IF NOT EXISTS ").sql(model).literal(" ")
    constraints = [f.foreign_key_constraint() for f in fields if isinstance(f, ForeignKeyField)]
    ctx.sql(EnclosedNodeList([f.ddl(ctx) for f in fields] + constraints))
    db.execute(ctx)
    for index in model._meta.fields_to_index():
        if not skip & {getattr(e, "name", None) for e in index._expressions}:
            db.execute(model._schema._create_index(index, safe=True))


def _v1_initial(db: Database) -> None:
    later_tables = {model for m in MIGRATIONS if m.version > 1 for model in m.creates}
    for model in sort_models(ALL_MODELS):
        if model not in later_tables:
            _create_table(db, model, _later_fields(model))


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


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _v1_initial),
    Migration(2, "ticket.closed_at", _v2_ticket_closed_at, adds={Ticket: frozenset({"closed_at"})}),
    Migration(3, "ticket number counter", _v3_ticket_counter, creates=(Counter,)),
    Migration(4, "web sessions", _v4_web_sessions, creates=(WebSession,)),
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
