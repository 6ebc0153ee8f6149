"""The agent's ticket page: canned replies filled in for the ticket and inserted through htmx; internal notes shown to
staff only, on no customer-facing page or fragment."""
from __future__ import annotations

import html

import pytest

from engine import notes, tickets
from engine.store.models import Message, Notification, Ticket
from tests.web.helpers import make_ticket

pytestmark = pytest.mark.postgres  # the internal flag filters on both databases

MARKER = "NOTE-91c2-ТОЛЬКО-staff"


@pytest.fixture
def ticket(rt, users):
    return make_ticket(rt, users["customer"])


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_agent_page_lists_the_replies_of_the_ticket_topic(as_role, ticket):
    page = _text(as_role("agent").get(f"/agent/tickets/{ticket.number}"))
    assert "Приветствие, заявка принята в работу" in page and "Проблема решена, просим проверить" in page
    assert "Запросить ID звонка" not in page  # offered on telephony tickets only
    assert f'hx-post="/agent/tickets/{ticket.number}/canned/greeting"' in page


def test_canned_reply_is_rendered_for_the_ticket_and_added_after_the_typed_text(as_role, ticket):
    agent = as_role("agent")
    response = agent.post(f"/agent/tickets/{ticket.number}/canned/greeting", {"message": "Добрый день.  \n"}, htmx=True)
    assert response.status_code == 200
    body = _text(response)
    assert body.startswith('<textarea id="reply-message" name="message"')
    expected = (f"Добрый день.\n\nЗдравствуйте, Анна!\n\nСпасибо за обращение. Заявка №{ticket.number} «Бот молчит» "
                "принята в работу, мы вернёмся с ответом в ближайшее время.\n\nС уважением, Агент, служба поддержки Twin")
    assert body.split(">", 1)[1].split("</textarea>", 1)[0] == expected
    assert body.endswith('<p id="err-reply-message" class="field-error" role="alert" hx-swap-oob="true"></p>')
    # Empty box: just the reply; the topic title comes from the ticket's snapshot.
    body = _text(agent.post(f"/agent/tickets/{ticket.number}/canned/resolved", {"message": ""}, htmx=True))
    assert f"по заявке №{ticket.number} («Проблема с чатами»)" in body
    assert ">Здравствуйте, Анна!" in body


def test_field_values_reach_the_template(rt, as_role, users):
    """need-call-id uses `fields.call_id` on telephony tickets; a chats ticket is not offered it at all."""
    values = {"account_id": "12345", "call_id": "abc-123", "subject": "Звонки обрываются", "message": "Обрыв через 5 секунд."}
    phone = tickets.create_ticket(rt, users["customer"], "telephony/telephony-problem", values, [], "web")
    agent = as_role("agent")
    body = _text(agent.post(f"/agent/tickets/{phone.number}/canned/need-call-id", {"message": ""}, htmx=True))
    assert "(указанный «abc-123» не найден)" in body
    chats = make_ticket(rt, users["customer"])
    assert agent.post(f"/agent/tickets/{chats.number}/canned/need-call-id", {"message": ""}, htmx=True).status_code == 404
    assert agent.post(f"/agent/tickets/{chats.number}/canned/nope", {"message": ""}, htmx=True).status_code == 404


def test_a_reply_failing_on_the_ticket_keeps_the_typed_text_and_says_why(rt, as_role, ticket, config_dir):
    (config_dir / "replies" / "broken.yaml").write_text(
        "id: broken\ntitle: Сломанный\nbody: \"{{ ticket_number / 0 }}\"\n", encoding="utf-8")
    assert rt.catalogs.reload()
    body = _text(as_role("agent").post(f"/agent/tickets/{ticket.number}/canned/broken", {"message": "мой текст"}, htmx=True))
    assert ">мой текст</textarea>" in body and 'aria-invalid="true"' in body
    assert rt.catalog.text("ru", "validation", "canned_reply_failed", title="Сломанный", error="division by zero") in body


def test_customers_get_no_canned_replies(as_role, ticket):
    customer = as_role("customer")
    assert customer.post(f"/agent/tickets/{ticket.number}/canned/greeting", {"message": ""}, htmx=True).status_code == 404
    assert "Приветствие, заявка принята в работу" not in _text(customer.get(f"/tickets/{ticket.number}"))


def test_sending_an_inserted_and_edited_reply(as_role, ticket):
    agent = as_role("agent")
    inserted = _text(agent.post(f"/agent/tickets/{ticket.number}/canned/greeting", {"message": ""}, htmx=True))
    text = inserted.split(">", 1)[1].split("</textarea>", 1)[0].replace("в ближайшее время", "сегодня до 18:00")
    assert agent.post(f"/agent/tickets/{ticket.number}/reply", {"message": text}).status_code == 303
    last = tickets.ticket_messages(ticket)[-1]
    assert (last.author_kind, last.internal) == ("agent", False)
    assert "мы вернёмся с ответом сегодня до 18:00." in last.body


def test_a_note_is_staff_only_everywhere_on_the_web(rt, as_role, users, ticket):
    agent, customer = as_role("agent"), as_role("customer")
    visible_id = tickets.ticket_messages(ticket)[-1].id
    response = agent.post(f"/agent/tickets/{ticket.number}/note", {"note": f"Проверить биллинг {MARKER}"})
    assert response.status_code == 303
    note = Message.get(Message.internal == True)  # noqa: E712
    assert (note.author_id, note.author_kind, note.body) == (users["agent"].id, "agent", f"Проверить биллинг {MARKER}")
    assert Ticket.get_by_id(ticket.id).status == "new"  # not a reply: the ticket still waits for support
    assert Notification.select().where(Notification.type_id.not_in(("ticket_created", "team_ticket_created"))).count() == 0

    page = _text(agent.get(f"/agent/tickets/{ticket.number}"))
    assert f'class="message message-agent message-internal" id="m{note.id}"' in page
    assert rt.catalog.text("ru", "web", "note_badge") in page and MARKER in page
    assert MARKER in _text(agent.get(f"/agent/tickets/{ticket.number}/messages?after={visible_id}"))
    assert MARKER in _text(agent.get(f"/agent/tickets/{ticket.number}/messages/earlier?before={note.id + 1}",
                                     headers={"HX-Request": "true"}))

    customer_views = {
        "ticket page": customer.get(f"/tickets/{ticket.number}"),
        "poll from start": customer.get(f"/tickets/{ticket.number}/messages?after=0", headers={"HX-Request": "true"}),
        "whole conversation": customer.get(f"/tickets/{ticket.number}/messages"),
        "earlier messages": customer.get(f"/tickets/{ticket.number}/messages/earlier?before={note.id + 1}",
                                         headers={"HX-Request": "true"}),
        "earlier page": customer.get(f"/tickets/{ticket.number}/messages/earlier?before={note.id + 1}"),
        "tickets list": customer.get("/tickets"),
        "notifications": customer.get("/notifications"),
        "home": customer.get("/"),
    }
    for name, response in customer_views.items():
        assert response.status_code == 200, name
        assert MARKER not in _text(response), name
        assert "message-internal" not in _text(response), name
    # The customer's poll sees nothing new: a note is no activity to them.
    assert customer.get(f"/tickets/{ticket.number}/messages?after={visible_id}").status_code == 204

    tickets.archive_ticket(rt, ticket, users["agent"])
    notes.add_note(rt, ticket, users["agent"], f"После закрытия {MARKER}", "web")  # archived tickets take notes too
    for url in ("/tickets/archive", f"/tickets/{ticket.number}", "/notifications"):
        assert MARKER not in _text(customer.get(url)), url
    assert _text(agent.get(f"/agent/tickets/{ticket.number}")).count(MARKER) == 2


def test_an_empty_note_is_refused_with_the_reason(rt, as_role, ticket):
    response = as_role("agent").post(f"/agent/tickets/{ticket.number}/note", {"note": "  "})
    assert response.status_code == 422
    assert rt.catalog.text("ru", "validation", "required") in _text(response)
    assert not Message.select().where(Message.internal == True).exists()  # noqa: E712


def test_customers_cannot_add_notes(as_role, ticket):
    assert as_role("customer").post(f"/agent/tickets/{ticket.number}/note", {"note": "x"}).status_code == 404
    assert not Message.select().where(Message.internal == True).exists()  # noqa: E712


def test_canned_reply_in_the_customers_language(rt, as_role, users):
    users["customer"].locale = "en"
    users["customer"].save()
    english = make_ticket(rt, users["customer"])
    body = _text(as_role("agent").post(f"/agent/tickets/{english.number}/canned/resolved", {"message": ""}, htmx=True))
    assert f"in request #{english.number} (“Chat problem”)" in body and ">Hello, Анна!" in body
