"""Customer pages rendered from the catalog: home, search, category, topic form, locale switch."""
from __future__ import annotations

import re

import pytest

from tests.web.helpers import TOPIC_URL


def test_anonymous_visitor_is_sent_to_sign_in(web):
    """Every portal page needs an account; the sign-in page remembers where the visitor was going."""
    response = web.get("/c/chats")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/c/chats")


def test_home_lists_every_web_category_with_title_and_description(as_role, rt):
    page = as_role("customer").get("/").get_data(as_text=True)
    for category in rt.catalog.categories_for("web"):
        assert f'href="/c/{category.id}"' in page
        assert category.title in page.replace("&#34;", '"')
    assert "Не знаете, что выбрать?" in page


def test_search_fragment_suggests_topics_with_their_category(as_role):
    client = as_role("customer")
    response = client.get("/search?q=не приходят сообщения в whatsapp", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body  # a fragment for htmx
    assert re.search(r'href="/c/[a-z0-9-]+/[a-z0-9-]+"', body)
    assert "suggestion-category" in body


def test_search_without_javascript_is_a_full_page(as_role):
    body = as_role("customer").get("/search?q=отчет не формируется").get_data(as_text=True)
    assert "<html" in body and 'class="suggestions"' in body


def test_category_page_shows_topics_and_priority_hints(as_role):
    body = as_role("customer").get("/c/chats").get_data(as_text=True)
    assert "Проблема с чатами" in body
    assert 'class="badge priority-low"' in body  # Иное
    assert 'class="badge priority-urgent"' in body  # Инцидент


def test_unknown_category_and_topic_are_404(as_role):
    client = as_role("customer")
    assert client.get("/c/nope").status_code == 404
    assert client.get("/c/chats/nope").status_code == 404


def test_topic_form_has_labels_tied_to_inputs_and_inline_help(as_role, rt):
    body = as_role("customer").get(TOPIC_URL).get_data(as_text=True)
    form = rt.catalog.form_for(rt.catalog.topic("chats/chat-problem"))
    for field in form.fields:
        assert f'<label for="f-{field.id}">' in body
        assert f'id="f-{field.id}"' in body
    assert "<details class=\"help\">" in body and "Где найти?" in body
    assert 'hx-post="/c/chats/chat-problem/check/account_id"' in body
    assert re.search(r'name="_idem" value="[A-Za-z0-9_-]{16,}"', body)


def test_field_hidden_by_visible_when_appears_when_its_controller_matches(as_role):
    client = as_role("customer")
    body = client.get(TOPIC_URL).get_data(as_text=True)
    assert re.search(r'id="fw-channel_other" hidden', body)
    fragment = client.post(f"{TOPIC_URL}/check/channel", {"channel": "Другое", "channel_other": "Viber"}, htmx=True)
    text = fragment.get_data(as_text=True)
    assert 'id="fw-channel_other" hx-swap-oob="true"' in text  # shown, out of band, with its value kept
    assert 'value="Viber"' in text


def test_a_chain_of_visible_when_hides_together(as_role, rt, config_dir):
    """A field behind a hidden one is hidden too; a controller posts and re-renders the whole chain."""
    form = config_dir / "forms" / "chat-problem.yaml"
    form.write_text(form.read_text(encoding="utf-8").replace("  - use: channel_other\n", "  - use: channel_other\n"
                    "  - {id: viber_note, label: Версия Viber, visible_when: {field: channel_other, equals: Viber}}\n"),
                    encoding="utf-8")
    assert rt.catalogs.reload()
    client = as_role("customer")
    body = client.get(TOPIC_URL).get_data(as_text=True)
    assert re.search(r'id="f-channel_other"[^>]*hx-params="channel,channel_other,viber_note"', body, re.S)
    shown = {"channel": "Другое", "channel_other": "Viber", "viber_note": "23"}
    text = client.post(f"{TOPIC_URL}/check/channel", shown, htmx=True).get_data(as_text=True)
    assert 'id="fw-viber_note" hx-swap-oob="true"' in text and 'value="23"' in text
    text = client.post(f"{TOPIC_URL}/check/channel", {**shown, "channel": "Telegram"}, htmx=True).get_data(as_text=True)
    assert 'id="fw-channel_other" hidden hx-swap-oob="true"' in text
    assert 'id="fw-viber_note" hidden hx-swap-oob="true"' in text


@pytest.mark.parametrize("raw, message", [
    ("12a", "Номер ЛК"),  # the field's own pattern_message
    ("", "Заполните это поле."),
    ("12345", None),
])
def test_inline_validation_fragment_shows_the_engine_message(as_role, raw, message):
    response = as_role("customer").post(f"{TOPIC_URL}/check/account_id", {"account_id": raw}, htmx=True)
    body = response.get_data(as_text=True)
    error = re.search(r'<p id="err-account_id" class="field-error" role="alert">(.*?)</p>', body, re.S).group(1)
    assert response.status_code == 200 and "<html" not in body
    if message is None:
        assert error == "" and "aria-invalid" not in body
    else:
        assert message in error and 'aria-invalid="true"' in body


def test_english_locale_switch(as_role):
    client = as_role("customer")
    response = client.post("/locale", {"locale": "en", "next": "/c/chats"})
    assert response.status_code == 303 and response.headers["Location"] == "/c/chats"
    body = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in body and "Not sure what to pick?" in body


def test_htmx_is_served_locally_and_cached(web):
    first = web.get("/assets/htmx.min.js")
    assert first.status_code == 200 and first.mimetype == "text/javascript" and b"htmx" in first.data
    again = web.get("/assets/htmx.min.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_every_shipped_category_and_topic_page_renders(as_role, rt):
    """The whole catalog renders: each topic's form with a label per field and an accept list for files."""
    client = as_role("customer")
    for category in rt.catalog.categories_for("web"):
        assert client.get(f"/c/{category.id}").status_code == 200
        for topic in category.topics_for("web"):
            body = client.get(f"/c/{category.id}/{topic.id}").get_data(as_text=True)
            for field in rt.catalog.form_for(topic).fields:
                assert f'<label for="f-{field.id}">' in body, (topic.key, field.id)
            assert 'accept="image/png,' in body or "attachments" not in body
