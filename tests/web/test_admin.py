"""The admin page: catalog version and files, reload with changes, errors as file:line, failed deliveries."""
from __future__ import annotations

from html import unescape

from engine.store.models import AuditLog

NEW_CATEGORY = """id: security
title: Безопасность
description: Вопросы доступа и защиты аккаунта.
order: 5
topics:
  - id: two-factor
    title: Двухфакторная аутентификация
    description: Не приходит код подтверждения.
"""


def test_admin_sees_version_files_and_reloads_new_topics(rt, as_role, config_dir):
    admin = as_role("admin")
    page = admin.get("/admin/").get_data(as_text=True)
    assert rt.catalog.version in page and "categories/chats.yaml" in page
    (config_dir / "categories" / "security.yaml").write_text(NEW_CATEGORY)
    fragment = unescape(admin.post("/admin/reload", htmx=True).get_data(as_text=True))
    assert "<html" not in fragment
    assert '+ тема security/two-factor: "Двухфакторная аутентификация"' in fragment and rt.catalog.version in fragment
    assert AuditLog.get(AuditLog.action == "config_reload").actor_id is not None
    customer = as_role("customer")
    assert "Безопасность" in customer.get("/").get_data(as_text=True)
    assert customer.get("/c/security/two-factor").status_code == 200


def test_invalid_reload_keeps_the_old_catalog_and_shows_file_and_line(rt, as_role, config_dir):
    version = rt.catalog.version
    (config_dir / "categories" / "broken.yaml").write_text("id: broken\ntitle: Сломано\ntopics:\n  - id: x\n    priority: soon\n")
    body = as_role("admin").post("/admin/reload").get_data(as_text=True)
    assert rt.catalog.version == version
    assert "categories/broken.yaml:" in body and 'class="errors"' in body


def test_failed_deliveries_are_listed_and_can_be_retried(as_role, users):
    from engine.store.models import Delivery, Notification

    note = Notification.create(user=users["customer"], type_id="support_reply", params={})
    failed = Delivery.create(notification=note, channel="telegram", target="support_bot:42", status="failed",
                             attempts=6, last_error="403 Forbidden: bot was blocked by the user <b>")
    admin = as_role("admin")
    page = admin.get("/admin/").get_data(as_text=True)
    assert "403 Forbidden: bot was blocked by the user &lt;b&gt;" in page and users["customer"].email in page
    assert admin.post(f"/admin/deliveries/{failed.id}/retry").status_code == 303
    assert Delivery.get_by_id(failed.id).status in ("pending", "sending", "sent")
    assert admin.post(f"/admin/deliveries/{failed.id}/retry").status_code == 404  # no longer failed


def test_channels_show_configured_or_the_missing_variable(rt, as_role):
    """The test runtime has no tokens and no SMTP_URL: each binding names its variable; web needs none."""
    rt.settings.env["SUPPORT_BOT_TOKEN"] = "1001:token"
    page = as_role("admin").get("/admin/").get_data(as_text=True)
    assert "Не настроен: не задана переменная окружения SMTP_URL" in page
    assert "Не настроен: не задана переменная окружения NOTIFY_BOT_TOKEN" in page
    assert "SUPPORT_BOT_TOKEN" not in page and page.count(">Настроен<") == 2  # support_bot and web


def test_skipped_deliveries_are_listed_with_their_reason_and_can_be_retried(as_role, users):
    from engine.store.models import Delivery, Notification

    note = Notification.create(user=users["customer"], type_id="support_reply", params={})
    skipped = Delivery.create(notification=note, channel="email", target=users["customer"].email, status="skipped",
                              attempts=1, last_error="channel email is not configured: SMTP_URL is not set")
    admin = as_role("admin")
    page = admin.get("/admin/").get_data(as_text=True)
    assert "Пропущено" in page and "channel email is not configured: SMTP_URL is not set" in page
    assert admin.post(f"/admin/deliveries/{skipped.id}/retry").status_code == 303
    assert Delivery.get_by_id(skipped.id).status in ("pending", "sending", "sent")


def test_reload_with_a_comment_is_listed_in_the_history(rt, as_role, config_dir, users):
    """A reload stores a version with the admin's email and comment; the history table lists it above the first."""
    admin = as_role("admin")
    assert "Сохранена версия 1" in admin.post("/admin/reload", htmx=True).get_data(as_text=True)
    (config_dir / "categories" / "security.yaml").write_text(NEW_CATEGORY)
    fragment = admin.post("/admin/reload", data={"comment": "новая категория"}, htmx=True).get_data(as_text=True)
    number = rt.catalogs.number
    assert number == 2
    assert f"Сохранена версия {number} ({rt.catalog.version})" in fragment
    page = unescape(admin.get("/admin/").get_data(as_text=True))
    history = page[page.index('id="history"'):page.index('id="channels"')]
    assert f"№ {number} <code" in history and users["admin"].email in history and "новая категория" in history
    assert "<code>+ categories/security.yaml</code>" in history and '<code>+ тема security/two-factor: "Двухфакторная аутентификация"</code>' in history
    again = admin.post("/admin/reload", htmx=True).get_data(as_text=True)
    assert f"Файлы совпадают с версией {number}" in again and rt.catalogs.number == number
