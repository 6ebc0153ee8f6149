"""Statements composed once (engine.store.prepared): every later run returns what peewee's own query returns, with the
cursor wrapper's column plan kept from the first run; joined rows, missing outer-joined rows and IN lists included."""
from __future__ import annotations

import pytest
from peewee import JOIN

from engine.store.models import Ticket, User
from engine.store.prepared import PreparedSelect, prepared_by_arity

pytestmark = pytest.mark.postgres  # SQL and the driver's columns differ by database


def snapshot(ticket: Ticket) -> tuple:
    """What a row carries: its columns, its joined models' columns (None: a verified-absent row), nothing dirty."""
    joined = {name: (None if rel is None else dict(rel.__data__)) for name, rel in ticket.__rel__.items()}
    return dict(ticket.__data__), joined, set(ticket._dirty)


def test_prepared_rows_equal_the_querys_own_rows_run_after_run(rt, customer, agent):
    for number, assignee in ((1, agent), (2, None), (3, agent)):
        Ticket.create(number=number, customer=customer, category_id="c", topic_id="t", priority="normal", status="new",
                      subject=f"s{number}", channel="web", assignee=assignee)
    assignee_row = User.alias("a")

    def query(status):
        return (Ticket.select(Ticket, User, assignee_row).join(User, on=Ticket.customer).switch(Ticket)
                .join(assignee_row, JOIN.LEFT_OUTER, on=(Ticket.assignee == assignee_row.id), attr="assignee")
                .where(Ticket.status == status).order_by(Ticket.number))

    prepared = PreparedSelect(query, arity=1)
    expected = [snapshot(t) for t in query("new")]
    for _ in range(3):  # the first run works out the column plan, later ones reuse it
        rows = prepared.all("new")
        assert [snapshot(t) for t in rows] == expected
        assert rows[1].assignee is None and rows[0].assignee.email == agent.email and rows[0].customer.email == customer.email
    assert snapshot(prepared.first("new")) == expected[0]
    assert all(build.__name__ == "build" for build in prepared._readers.values())  # row_builder's, not peewee's
    assert prepared.all("archived") == [] and prepared.first("archived") is None


def test_rows_of_one_model_equal_the_querys_own(rt, customer, agent):
    """A SELECT of one model (no join): each row built straight into `__data__`, as peewee's `Model(**row)` builds it."""
    Ticket.create(number=7, customer=customer, category_id="c", topic_id="t", priority="high", status="new",
                  subject="s", channel="web", assignee=agent, fields={"a": 1}, snapshot={"topic_title": "T"})

    def query(number):
        return Ticket.select().where(Ticket.number == number)

    prepared = PreparedSelect(query, arity=1)
    for _ in range(2):
        row = prepared.first(7)
        assert snapshot(row) == snapshot(query(7).get()) and type(row) is Ticket
        assert row.customer.email == customer.email and row.assignee_id == agent.id  # foreign keys load as before
    users = PreparedSelect(lambda role: User.select(User.id, User.email).where(User.role == role), arity=1)
    assert [snapshot(u) for u in users.all("agent")] == [snapshot(u) for u in User.select(User.id, User.email)
                                                       .where(User.role == "agent")]
    assert all(build.__name__ == "build" for build in (*prepared._readers.values(), *users._readers.values()))


def test_in_lists_of_any_length(rt, customer, agent):
    by_count = prepared_by_arity(lambda *ids: User.select().where(User.id.in_(list(ids))).order_by(User.id))
    assert [u.email for u in by_count(2).all(customer.id, agent.id)] == [customer.email, agent.email]
    assert [u.email for u in by_count(1).all(agent.id)] == [agent.email]
    assert by_count(0).all() == [] and by_count(2) is by_count(2)
