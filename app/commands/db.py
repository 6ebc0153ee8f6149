"""`run.py db upgrade`, `run.py user add | set-password`, `run.py demo`: schema, accounts and a living demo system.

The other `run.py user` commands: list, set-role, (de|re)activate, invite in app.commands.users; export and erase
(a customer's data rights) in app.commands.user_data."""
from __future__ import annotations

import argparse
import secrets
from datetime import date

from app.commands import user_data, users
from engine import accounts, tickets
from engine.catalog import Catalog
from engine.catalog.catalog import Topic
from engine.errors import Conflict
from engine.forms import clean_field
from engine.runtime import start_runtime
from engine.settings import from_env
from engine.store.db import init_database
from engine.store.migrations import current_version, upgrade
from engine.store.models import Ticket, User

DEMO_USERS = (
    ("demo@example.com", "demo-password", "customer", "Демо Клиент"),
    ("agent@example.com", "agent-password", "agent", "Агент Поддержки"),
    ("admin@example.com", "admin-password", "admin", "Администратор"),
)
# Candidates tried in order until the field (its type, pattern, limits) accepts one.
DEMO_CANDIDATES = {
    "string": ("12345", "Демо", "example.com", "demo"),
    "text": ("Демонстрационное описание проблемы.",),
    "integer": ("1", "10", "100"),
    "boolean": ("нет",),
    "email": ("demo@example.com",),
    "phone": ("+79001234567",),
    "date": (date.today().isoformat(),),
}
DEMO_STAFF_REPLY = "Здравствуйте! Уточните, пожалуйста, когда проблема появилась впервые?"
DEMO_CUSTOMER_REPLY = "Вчера вечером, после обновления сценария."
# What happens after creation to each demo ticket: one ends in each status.
DEMO_TICKETS = ((), ("staff",), ("staff", "customer"), ("staff", "archive"))


def register(subparsers) -> None:
    db = subparsers.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply pending schema migrations").set_defaults(func=_db_upgrade)

    user = subparsers.add_parser("user", help="accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create a customer, agent or admin account")
    add.add_argument("--email", required=True)
    add.add_argument("--role", choices=accounts.ROLES, default="customer")
    add.add_argument("--password", help="default: a random password, printed once")
    add.add_argument("--name", default="")
    add.set_defaults(func=_user_add)
    password = user_sub.add_parser("set-password", help="a new password; the account's web sessions end")
    password.add_argument("--email", required=True)
    password.add_argument("--password", help="default: a random password, printed once")
    password.set_defaults(func=_user_set_password)
    users.register(user_sub)
    user_data.register(user_sub)

    subparsers.add_parser("demo", help="load demo accounts and tickets (idempotent)").set_defaults(func=_demo)


def _db_upgrade(args: argparse.Namespace) -> int:
    db = init_database(from_env())
    applied = upgrade(db)
    print(f"schema version {current_version(db)}" + (f" (applied {', '.join(map(str, applied))})" if applied else " (up to date)"))
    return 0


def _user_add(args: argparse.Namespace) -> int:
    db = init_database(from_env())
    upgrade(db)
    password = args.password or secrets.token_urlsafe(12)
    try:
        user = accounts.create_user(args.email, password, role=args.role, name=args.name)
    except (Conflict, ValueError) as exc:
        print(f"error: {exc}")
        return 1
    print(f"created {user.role} {user.email}" + ("" if args.password else f" with password {password}"))
    return 0


def _existing_user(email: str) -> User | None:
    init_database(from_env())
    user = User.get_or_none(User.email == accounts.normalize_email(email))
    if user is None:
        print(f"error: no account {email}")
    return user


def _user_set_password(args: argparse.Namespace) -> int:
    user = _existing_user(args.email)
    if user is None:
        return 1
    password = args.password or secrets.token_urlsafe(12)
    accounts.set_password(user, password)
    print(f"password of {user.email} changed" + ("" if args.password else f" to {password}") + "; its sessions ended")
    return 0


def demo_values(catalog: Catalog, topic: Topic, subject: str) -> dict | None:
    """Valid values for every required field of the topic's form, or None if some cannot be guessed."""
    values = {"subject": subject, "message": DEMO_CANDIDATES["text"][0]}
    for field in catalog.form_for(topic).fields:
        if field.id in values or field.type == "attachments":
            continue
        candidates = [o.value for o in field.options] if field.type == "select" else DEMO_CANDIDATES.get(field.type, ())
        value = next((c for c in candidates if clean_field(catalog, field, c, "ru")[1] is None), None)
        if value is not None:
            values[field.id] = value
        elif field.required:
            return None
    return values


def load_demo(rt) -> list[Ticket]:
    """Demo customer, agent and admin, and a few tickets in different states; running it again changes nothing."""
    users = {}
    for email, password, role, name in DEMO_USERS:
        users[role] = User.get_or_none(User.email == email) or accounts.create_user(email, password, role=role, name=name)
    customer, agent = users["customer"], users["agent"]
    # Round-robin over categories, so the demo tickets show several of them.
    per_category = [c.topics_for("web") for c in rt.catalog.categories_for("web")]
    topics = [ts[i] for i in range(max(map(len, per_category), default=0)) for ts in per_category if i < len(ts)]
    made = []
    for index, steps in enumerate(DEMO_TICKETS):
        key = f"demo-{index + 1}"
        existing = Ticket.get_or_none((Ticket.customer == customer) & (Ticket.idempotency_key == key))
        if existing:
            made.append(existing)
            continue
        choice = next(((t, v) for t in topics[index:] + topics[:index] if (v := demo_values(rt.catalog, t, t.title))), None)
        if choice is None:
            continue
        ticket = tickets.create_ticket(rt, customer, choice[0].key, choice[1], [], "web", idempotency_key=key)
        for step in steps:
            if step == "staff":
                tickets.add_reply(rt, ticket, agent, DEMO_STAFF_REPLY, [], "web")
            elif step == "customer":
                tickets.add_reply(rt, ticket, customer, DEMO_CUSTOMER_REPLY, [], "web")
            elif step == "archive":
                tickets.archive_ticket(rt, ticket, customer, "resolved")
        made.append(ticket)
    return made


def _demo(args: argparse.Namespace) -> int:
    rt = start_runtime(from_env())
    upgrade(rt.db)
    made = load_demo(rt)
    for email, password, role, _ in DEMO_USERS:
        print(f"{role:8} {email:20} password: {password}")
    print("tickets: " + ", ".join(f"#{Ticket.get_by_id(t.id).number} {Ticket.get_by_id(t.id).status}" for t in made))
    return 0
