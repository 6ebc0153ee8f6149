"""The admin page's config versions: the files on disk compared and previewed before applying, applying with a
comment, the paged history, a one-click rollback, and a failed reload that says nothing was applied."""
from __future__ import annotations

from html import unescape

import pytest

from engine.store.models import AuditLog, ConfigVersion

CHAT_LABEL = 'label: {ru: "Идентификатор чата, в котором происходил диалог", en: ID of the chat where the dialog took place}'
NEW_LABEL = 'label: {ru: "Номер чата", en: Chat number}'
LABEL_LINE = ('~ поле chat-problem/chat_id: подпись: "Идентификатор чата, в котором происходил диалог" -> "Номер чата"')


def relabel(config_dir, old: str = CHAT_LABEL, new: str = NEW_LABEL) -> None:
    path = config_dir / "forms" / "chat-problem.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_the_draft_shows_the_changes_and_previews_the_topic_without_applying(rt, as_role, config_dir):
    """The changed label is listed in the admin's language, the topic's web form and its Telegram questions are
    rendered from the files, and nothing is stored or served yet."""
    admin = as_role("admin")
    admin.post("/admin/reload")
    running, number = rt.catalog.version, rt.catalogs.number
    relabel(config_dir)
    page = text_of(admin.get("/admin/config/draft"))
    assert f"<li><code>{LABEL_LINE}</code></li>" in page and "<li><code>~ forms/chat-problem.yaml</code></li>" in page
    preview = page[page.index('id="preview-chats-chat-problem"'):]
    assert "Номер чата" in preview and "Идентификатор чата, в котором" not in preview  # the web form, from the files
    assert "<pre class=\"preview-message\">Номер чата\nНапример:" in preview  # the bot's question
    assert '<span class="button">Пропустить</span>' in preview
    assert rt.catalog.version == running and rt.catalogs.number == number == ConfigVersion.select().count()
    admin.post("/locale", {"locale": "en", "next": "/admin/"})
    page = text_of(admin.get("/admin/config/draft"))
    assert ('~ field chat-problem/chat_id: label: "ID of the chat where the dialog took place" -> "Chat number"' in page)


@pytest.mark.postgres
def test_apply_with_a_comment_then_roll_back_in_one_click(rt, as_role, config_dir, users):
    """Applying lists the change (not "nothing changed") and the version in the history with the admin and the
    comment; the rollback button publishes version 1 again as version 3, audited with the admin."""
    admin = as_role("admin")
    admin.post("/admin/reload")
    relabel(config_dir)
    fragment = text_of(admin.post("/admin/reload", {"comment": "короче подпись"}, htmx=True))
    assert "Сохранена версия 2" in fragment and LABEL_LINE in fragment and "Конфигурация не изменилась" not in fragment
    history = fragment[fragment.index('id="history" hx-swap-oob="true"'):]
    assert "короче подпись" in history and users["admin"].email in history and LABEL_LINE in history
    assert rt.catalog.forms["chat-problem"].field("chat_id").label == "Номер чата"
    assert as_role("agent").post("/admin/versions/1/rollback").status_code == 404  # staff but not admin: hidden
    assert admin.post("/admin/versions/1/rollback", csrf=False).status_code in (400, 403)
    assert admin.post("/admin/versions/99/rollback", htmx=True).status_code == 404
    fragment = text_of(admin.post("/admin/versions/1/rollback", htmx=True))
    assert "Версия 1 опубликована снова как версия 3" in fragment
    assert '~ поле chat-problem/chat_id: подпись: "Номер чата" -> "Идентификатор чата' in fragment
    assert rt.catalogs.number == 3 and rt.catalog.forms["chat-problem"].field("chat_id").label.startswith("Идентификатор")
    row = AuditLog.get(AuditLog.action == "config_rollback")
    assert row.actor_id == users["admin"].id and row.detail["from"] == 1 and row.detail["number"] == 3
    assert "Откат к версии 1" in text_of(admin.get("/admin/versions"))


def test_a_failed_reload_says_nothing_was_applied(rt, as_role, config_dir):
    admin = as_role("admin")
    version = rt.catalog.version
    (config_dir / "categories" / "broken.yaml").write_text("")
    fragment = text_of(admin.post("/admin/reload", htmx=True))
    assert "Конфигурация с ошибками не применена; работает прежняя версия." in fragment
    assert "categories/broken.yaml:1: файл пуст</code>" in fragment and rt.catalog.version == version
    page = text_of(admin.get("/admin/config/draft"))
    assert "В файлах есть ошибки — применить их нельзя; работает прежняя версия." in page
    assert "categories/broken.yaml:1: файл пуст</code>" in page


@pytest.mark.postgres
def test_the_history_pages_by_keyset(rt, as_role):
    """Ten versions a page, newest first; the next page continues where the first ended."""
    for number in range(1, 13):
        ConfigVersion.create(number=number, hash=f"{number:064x}", catalog_version=f"{number:012x}", files=[],
                             actor="cli:test@host", comment=f"версия-{number:02d}", summary="")
    admin = as_role("admin")
    page = text_of(admin.get("/admin/versions"))
    assert [n for n in range(1, 13) if f"версия-{n:02d}" in page] == list(range(3, 13))
    after = page[page.index('rel="next" href="') + len('rel="next" href="'):].split('"')[0]
    rest = text_of(admin.get(after))
    assert [n for n in range(1, 13) if f"версия-{n:02d}" in rest] == [1, 2] and "Показано 11–12 из 12" in rest
