"""Storage: versioned migrations keep rows, concurrent creators get unique numbers, the CLI commands."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from peewee import IntegrityError, SqliteDatabase, Table

import run
from engine import tickets
from engine.catalog_sync import CatalogHolder
from engine.config_versions import history
from engine.store.migrations import LATEST, TicketBeforeTimers, current_version, upgrade
from engine.store.models import ALL_MODELS, NO_DEADLINE, Message, SchemaVersion, Ticket, Timer, User
from engine.store.prepared import create
from engine.ticket_search import search_tickets
from tests.engine.conftest import make_user

pytestmark = pytest.mark.postgres

SITE = {"subject": "Сайт не открывается", "message": "С утра 502", "account_id": "12345"}


def empty(db) -> None:
    if isinstance(db, SqliteDatabase):
        db.drop_tables(ALL_MODELS)
    else:
        db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


def columns(db, table: str) -> set[str]:
    return {c.name for c in db.get_columns(table)}


def test_prepared_create_writes_what_model_create_writes(rt, customer):
    """engine.store.prepared.create keeps one INSERT per set of columns: each call, whichever optional columns it
    gives, stores the row Model.create would (defaults, JSON, times, foreign keys) and returns it with its id."""
    ticket = tickets.create_ticket(rt, customer, "hosting/site-down", SITE, [], "web")
    at = datetime(2027, 1, 4, 9, 0, 30, 250, tzinfo=timezone.utc)
    made = [create(Timer, kind="remind", ticket=ticket, due_at=at, payload={"до": [1]}, created_at=at, updated_at=at),
            create(Timer, kind="autoclose", ticket=ticket.id, due_at=at, last_error="x"),  # other columns, defaults
            create(Timer, kind="remind2", ticket=ticket, due_at=at, payload={"b": 2}, created_at=at, updated_at=at)]
    assert len({row.id for row in made}) == 3 and not any(row.is_dirty() for row in made)
    for row in made:
        stored = Timer.get_by_id(row.id).__data__
        assert stored == {name: row.__data__.get(name) for name in stored}
    assert Timer.get_by_id(made[1].id).payload == {} and Timer.get_by_id(made[1].id).state == "pending"


def test_fresh_database_is_at_the_latest_version(rt):
    assert current_version(rt.db) == LATEST == 15
    assert upgrade(rt.db) == []


def test_version_1_database_upgrades_without_losing_rows(rt):
    """Build a real v1 schema, fill it, upgrade: rows survive and the new column is backfilled."""
    empty(rt.db)
    assert upgrade(rt.db, target=1) == [1]
    assert "closed_at" not in columns(rt.db, "ticket")
    customer = make_user("old@example.com", "old-password")
    row = {"customer": customer, "category_id": "hosting", "topic_id": "site-down", "priority": "urgent",
           "subject": "old", "channel": "web", "snapshot": {"topic_title": "Сайт не открывается"}}

    # Inserted as v1 stored them: the model would also name the columns later versions add (sla_due_at).
    def old_ticket(**values):
        now = datetime.now(timezone.utc)
        values = {"fields": {}, **row, **values, "created_at": now, "updated_at": now}
        stored = {Ticket._meta.fields[k].column_name: Ticket._meta.fields[k].db_value(v) for k, v in values.items()}
        Table("ticket").bind(rt.db).insert(**stored).execute()
        return Ticket(id=Ticket.select(Ticket.id).where(Ticket.number == values["number"]).scalar())

    open_ticket = old_ticket(number=1001, status="new", fields={"account_id": "1"})
    done = old_ticket(number=1002, status="archived", closed_reason="customer")
    # The v1 message table has no `internal` column, which the model's insert would name.
    Table("message").bind(rt.db).insert(ticket_id=open_ticket.id, author_id=customer.id, author_kind="customer", channel="web",
                                         body="v1 body", created_at=Message.created_at.db_value(datetime.now(timezone.utc))).execute()

    assert upgrade(rt.db) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    assert "closed_at" in columns(rt.db, "ticket")
    assert [v.version for v in SchemaVersion.select().order_by(SchemaVersion.version)] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    assert "websession" in rt.db.get_tables()
    assert User.get(User.email == "old@example.com").password_hash == customer.password_hash
    assert User.get(User.email == "old@example.com").email_verified_at is not None  # accounts from before count as verified
    assert [m.body for m in Message.select()] == ["v1 body"]
    staff = make_user("staff@example.com", "staff-password", role="agent")
    assert [h.ticket.number for h in search_tickets(staff, "body").page.rows] == [1001]  # rows from before are indexed
    assert User.get(User.email == "old@example.com").time_zone is None  # the policy's zone
    assert [m.body for m in tickets.ticket_messages(open_ticket)] == ["v1 body"]  # an old message is no internal note
    assert Ticket.get_by_id(open_ticket.id).closed_at is None and Ticket.get_by_id(open_ticket.id).fields == {"account_id": "1"}
    archived = Ticket.get_by_id(done.id)
    assert archived.closed_at == archived.updated_at
    assert archived.sla_due_at == NO_DEADLINE  # tickets from before have no SLA
    assert tickets.create_ticket(rt, customer, "hosting/site-down", SITE, [], "web").number == 1003  # the counter continues


def test_database_made_before_migrations_is_adopted(rt):
    """Tables created straight from the models (no version rows yet): upgrade records versions, changes nothing."""
    empty(rt.db)
    rt.db.create_tables(ALL_MODELS)
    assert upgrade(rt.db) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    assert current_version(rt.db) == LATEST


def test_version_4_deadlines_become_timers(rt):
    """Tickets waiting for the customer keep their deadlines as timers (a sent reminder as a fired one); the ticket's
    deadline columns go; a ticket that was not waiting gets none."""
    empty(rt.db)
    assert upgrade(rt.db, target=4) == [1, 2, 3, 4]
    assert {"auto_close_at", "reminder_at", "reminder_sent_at"} <= columns(rt.db, "ticket")
    customer = make_user("old@example.com", "old-password")
    since = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
    close_at, remind_at = since + timedelta(days=2), since + timedelta(days=1)
    row = {"customer": customer, "category_id": "hosting", "topic_id": "site-down", "priority": "urgent", "channel": "web"}
    waiting = TicketBeforeTimers.create(number=1001, subject="waits", status="waiting_customer", waiting_since=since,
                                        auto_close_at=close_at, reminder_at=remind_at, **row)
    reminded = TicketBeforeTimers.create(number=1002, subject="reminded", status="waiting_customer", waiting_since=since,
                                         auto_close_at=close_at, reminder_at=remind_at, reminder_sent_at=remind_at, **row)
    support = TicketBeforeTimers.create(number=1003, subject="support", status="waiting_support", **row)

    assert upgrade(rt.db) == [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    assert not {"auto_close_at", "reminder_at", "reminder_sent_at"} & columns(rt.db, "ticket")
    timers = {(t.ticket_id, t.kind): t for t in Timer.select()}
    assert {key: (t.due_at, t.state) for key, t in timers.items()} == {
        (waiting.id, "autoclose"): (close_at, "pending"), (waiting.id, "remind"): (remind_at, "pending"),
        (reminded.id, "autoclose"): (close_at, "pending"), (reminded.id, "remind"): (remind_at, "fired"),
    }
    assert timers[(waiting.id, "remind")].payload == {"auto_close_at": close_at.isoformat()}
    assert Ticket.select(Ticket.subject).where(Ticket.id == support.id).scalar() == "support"


def test_concurrent_creators_get_unique_sequential_numbers(rt, customer):
    """Eight threads, each with its own connection, create tickets at once (SQLite WAL, or PostgreSQL)."""
    per_thread, threads, errors = 5, 8, []
    barrier = threading.Barrier(threads)

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                tickets.create_ticket(rt, customer, "hosting/site-down", {**SITE, "subject": f"t{n}-{i}"}, [], "web",
                                      idempotency_key=f"{n}-{i}")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            rt.db.close()

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)
    assert errors == []
    numbers = sorted(t.number for t in Ticket.select(Ticket.number))
    assert numbers == list(range(1001, 1001 + per_thread * threads))


def test_concurrent_double_submit_creates_one_ticket(rt, customer):
    """The same idempotency key from four threads at once (a retried htmx request): one ticket."""
    barrier, results = threading.Barrier(4), []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(tickets.create_ticket(rt, customer, "hosting/site-down", SITE, [], "web", idempotency_key="dup").id)
        finally:
            rt.db.close()

    workers = [threading.Thread(target=worker) for _ in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=60)
    assert len(results) == 4 and len(set(results)) == 1
    assert Ticket.select().count() == 1


@pytest.fixture
def cli_env(monkeypatch, settings, redis_server):
    """run.py commands read the environment: point them at the test database, config and Redis."""
    monkeypatch.setenv("HELPDESK_DATA", str(settings.data_dir))
    monkeypatch.setenv("HELPDESK_CONFIG", str(settings.config_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", f"unix://{redis_server.socket_file}")


def test_cli_db_upgrade_user_add_and_demo(rt, cli_env, capsys):
    assert run.main(["db", "upgrade"]) == 0
    assert f"schema version {LATEST} (up to date)" in capsys.readouterr().out
    assert run.main(["user", "add", "--email", "Boss@Example.com", "--role", "admin", "--password", "s3cret-pass"]) == 0
    assert User.get(User.email == "boss@example.com").role == "admin"
    assert run.main(["user", "add", "--email", "boss@example.com"]) == 1
    assert run.main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "demo@example.com" in out and "password: demo-password" in out
    assert "#1001 new, #1002 waiting_customer, #1003 waiting_support, #1004 archived" in out
    assert run.main(["demo"]) == 0  # idempotent
    assert Ticket.select().count() == 4 and User.select().count() == 4


def test_version_6_adds_the_list_indexes_a_version_5_database_lacks(rt):
    """Lists and filters get their indexes on a database built before them (adopted or upgraded alike)."""
    empty(rt.db)
    assert upgrade(rt.db, target=5) == [1, 2, 3, 4, 5]
    added = ["ticket_customer_id_status_updated_at_id", "ticket_customer_id_status_closed_at_id",
             "ticket_status_priority_updated_at_id", "ticket_category_id_topic_id_status_priority_updated_at_id",
             "message_ticket_id_id", "notification_in_app_user_id_id", "notification_unread_user_id", "delivery_status_id"]
    for name in added:
        rt.db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    assert upgrade(rt.db, target=8) == [6, 7, 8]
    present = {i.name for table in ("ticket", "message", "notification", "delivery") for i in rt.db.get_indexes(table)}
    assert set(added) <= present


def test_version_9_counts_existing_accounts_as_verified(rt):
    """Accounts made before self-service sign-up keep creating tickets: their address counts as confirmed."""
    empty(rt.db)
    assert upgrade(rt.db, target=8) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert "email_verified_at" not in columns(rt.db, "user")
    old = make_user("old@example.com", "old-password")
    assert upgrade(rt.db, target=9) == [9]
    verified, created = User.select(User.email_verified_at, User.created_at).where(User.id == old.id).tuples().get()
    assert verified == created
    assert "accounttoken" in rt.db.get_tables()


def test_version_10_binds_accounts_to_one_telegram_id(rt):
    """Telegram-first customers: a nullable, unique user.telegram_id added to an existing user table."""
    empty(rt.db)
    upgrade(rt.db, target=9)
    old = make_user("old@example.com", "old-password")
    assert upgrade(rt.db, target=10) == [10]
    assert User.select(User.telegram_id).where(User.id == old.id).scalar() is None
    User.update(telegram_id=42).where(User.id == old.id).execute()
    with pytest.raises(IntegrityError), rt.db.atomic():
        User.create(email="twin@example.com", telegram_id=42)


def test_version_15_adds_teams_and_assignees_to_existing_tickets(rt):
    """Tickets made before teams keep their rows, with no team and nobody assigned; the queue indexes exist."""
    empty(rt.db)
    upgrade(rt.db, target=14)
    customer = make_user("old@example.com", "old-password")
    Table("ticket").bind(rt.db).insert(number=1001, customer_id=customer.id, category_id="hosting", topic_id="other",
                                       priority="low", status="new", subject="old", fields="{}", snapshot="{}",
                                       channel="web", created_at=datetime(2026, 1, 1), updated_at=datetime(2026, 1, 1)).execute()
    assert upgrade(rt.db) == [15]
    ticket = Ticket.get(Ticket.number == 1001)
    assert (ticket.subject, ticket.team, ticket.assignee_id) == ("old", None, None)
    indexes = {i.name for i in rt.db.get_indexes("ticket")}
    assert {"ticket_team_status_priority_updated_at_id", "ticket_assignee_id_status_priority_updated_at_id"} <= indexes


def test_version_5_database_gets_config_versions(rt, settings):
    """An existing database upgrades to config versions; the first process then stores its folder as version 1."""
    empty(rt.db)
    assert upgrade(rt.db, target=5) == [1, 2, 3, 4, 5]
    make_user("old@example.com", "old-password")
    assert upgrade(rt.db) == [6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    holder = CatalogHolder(settings.config_dir, db=rt.db)
    try:
        assert holder.number == 1 and User.get(User.email == "old@example.com")
        [first] = history()
        assert (first.number, first.catalog_version) == (1, holder.current.version) and first.actor.startswith("start:")
        assert CatalogHolder(settings.config_dir, db=rt.db).number == 1  # the next process loads it, stores nothing
        assert len(history()) == 1
    finally:
        holder.close()
