"""The admin page: catalog version and files, reload with changes, errors as file:line, failed deliveries."""
from __future__ import annotations

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
    fragment = admin.post("/admin/reload", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment
    assert "+ topic security/two-factor" in fragment and rt.catalog.version in fragment
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
