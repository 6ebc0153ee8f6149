"""The portal shows the shipped catalog's categories and topics in the customer's language."""
from __future__ import annotations


def test_english_categories_and_topics_after_the_switch(as_role):
    customer = as_role("customer")
    home = customer.get("/").get_data(as_text=True)
    assert "Чаты и рассылки" in home and "Chats and mailings" not in home
    customer.post("/locale", {"locale": "en", "next": "/"})
    home = customer.get("/").get_data(as_text=True)
    assert "Chats and mailings" in home and "Чаты и рассылки" not in home
    page = customer.get("/c/chats").get_data(as_text=True)
    assert "Chat problem" in page and "Errors during a chat session" in page and "Проблема с чатами" not in page
    form = customer.get("/c/chats/chat-problem").get_data(as_text=True)
    assert "Account number" in form and "Номер ЛК" not in form  # the field library's label


def test_notifications_and_their_settings_in_the_customers_language(rt, as_role, users):
    from engine.notify import notify

    with rt.db.atomic():
        notify(rt.catalog, users["customer"], "low_balance", {"balance": 5, "currency": "RUB"})
    customer = as_role("customer")
    assert "Низкий баланс: 5 RUB." in customer.get("/notifications").get_data(as_text=True)
    customer.post("/locale", {"locale": "en", "next": "/"})
    assert "Low balance: 5 RUB. Top up your account" in customer.get("/notifications").get_data(as_text=True)
    settings = customer.get("/settings").get_data(as_text=True)
    assert "Low balance notice" in settings and "Уведомление о низком балансе" not in settings
