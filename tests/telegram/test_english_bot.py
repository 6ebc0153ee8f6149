"""The bot in the customer's language: an English account gets English categories, topics, questions, help,
options and buttons; /language switches it (and keeps it on the account)."""
from __future__ import annotations

from engine import accounts
from engine.store.models import Ticket, User
from tests.telegram.chat import Chat
from tests.telegram.conftest import SUPPORT_TOKEN, text

CHAT = 5077


def test_an_english_customer_creates_a_ticket_in_english(rt, fake_api, bots):
    customer = accounts.create_user("en@example.com", "secret-password-1", locale="en")
    chat = Chat(fake_api, SUPPORT_TOKEN, CHAT)
    chat.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")
    assert chat.last == text(rt, "start_linked", "en")
    chat.send("/createticket")
    assert "Chats and mailings" in chat.buttons() and chat.buttons()[-1] == text(rt, "cancel", "en")
    chat.press("Chats and mailings")
    assert "• Chat problem — Errors during a chat session" in chat.last
    chat.press("Chat problem")
    assert chat.last.startswith("Account number\nFor example: 12345")
    assert chat.buttons() == ["Where to find it?", "Cancel"]
    chat.press("Where to find it?")
    assert chat.last.startswith("The account number is in the top right corner")
    chat.send("abc")
    assert chat.texts()[-2] == "An account number has digits only, e.g. 12345."
    chat.send("12345").press("Skip").press("Skip")
    assert chat.last.startswith("The channel where the problem occurred") and "Web chat" in chat.buttons()
    chat.send("Other")  # a typed option label in English counts too: «Другое» shows the next question
    assert chat.last.startswith("Which channel?")
    chat.send("Pigeons")
    assert chat.last.startswith("The problem in a few words\nFor example: messages to Telegram are not sent")
    chat.send("Pigeons lost")
    assert chat.last.startswith("A detailed description of the problem")
    chat.send("It stopped.").press("Finish")
    ticket = Ticket.get()
    assert ticket.fields["channel"] == "Другое" and chat.last == text(rt, "ticket_created", "en", number=ticket.number)


def test_language_command_switches_and_keeps_the_language(rt, fake_api, bots):
    chat = Chat.linked(rt, fake_api, SUPPORT_TOKEN, CHAT, "ru@example.com")
    chat.send("/language")
    assert chat.last == text(rt, "choose_language") and chat.buttons() == ["English", "Русский"]
    chat.press("English")
    assert chat.last == "Done: the bot speaks English."
    assert User.get(User.email == "ru@example.com").locale == "en"
    chat.send("/createticket")
    assert chat.last == text(rt, "choose_category", "en")


def test_an_unlinked_english_telegram_user_is_answered_in_english(rt, fake_api, bots):
    stranger = Chat(fake_api, SUPPORT_TOKEN, 5078)
    stranger.user["language_code"] = "en"
    stranger.send("/createticket")
    assert stranger.last == text(rt, "not_linked", "en")


def test_typed_phrases_find_english_topics_and_feed_search_feedback(rt, fake_api, bots):
    from engine.store.models import SearchFeedback

    customer = accounts.create_user("en2@example.com", "secret-password-1", locale="en")
    chat = Chat(fake_api, SUPPORT_TOKEN, CHAT)
    chat.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")
    chat.send("/createticket").send("quantum teleport")
    assert chat.texts()[-2] == text(rt, "no_suggestions", "en")
    chat.send("report is not generating")
    assert chat.last.startswith(text(rt, "suggestions", "en")) and chat.buttons()[0] == "Report download problem"
    chat.press(text(rt, "back_to_categories", "en")).press("Chats and mailings").press("Chat problem")
    assert {(r.phrase, r.topic_key) for r in SearchFeedback.select()} == {
        ("quantum teleport", ""), ("report is not generating", "chats/chat-problem")}
