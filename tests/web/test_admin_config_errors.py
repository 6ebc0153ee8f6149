"""The admin page shows config errors in the admin's language (Russian by default, English after the switch)."""
from __future__ import annotations


def test_reload_errors_in_the_admins_locale(rt, as_role, config_dir):
    (config_dir / "categories" / "broken.yaml").write_text("")
    (config_dir / "policy.yaml").write_text("policies: {}\n")
    admin = as_role("admin")
    body = admin.post("/admin/reload").get_data(as_text=True)
    assert "categories/broken.yaml:1: файл пуст</code>" in body
    assert "policy.yaml: неизвестный файл, он не читается (может быть, &#39;policies.yaml&#39;?)</code>" in body
    admin.post("/locale", {"locale": "en", "next": "/admin/"})
    body = admin.post("/admin/reload").get_data(as_text=True)
    assert "categories/broken.yaml:1: the file is empty</code>" in body
