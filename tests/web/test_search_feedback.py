"""The portal feeds search feedback: an explicit search that found nothing, and a topic opened that the last search
did not offer; the admin page lists the phrases with keywords to add, and dismisses them."""
from __future__ import annotations

from engine.store.models import SearchFeedback


def test_search_feedback_from_the_portal_to_the_admin_page(as_role):
    customer = as_role("customer")
    customer.get("/search?q=квантовый+телепорт")  # the form submitted: nothing found is counted at once
    customer.get("/search?q=кван", headers={"HX-Request": "true"})  # live search while typing: not counted
    customer.get("/search?q=голубиная+почта+не+доходит", headers={"HX-Request": "true"})
    customer.get("/c/chats/chat-problem")  # the search did not offer it
    customer.get("/search?q=отчет+не+формируется", headers={"HX-Request": "true"})
    customer.get("/c/reports/report-export")  # offered: the search did its job
    rows = {(r.phrase, r.topic_key, r.count) for r in SearchFeedback.select()}
    assert rows == {("квантовый телепорт", "", 1), ("голубиная почта не доходит", "chats/chat-problem", 1)}

    assert as_role("customer").get("/admin/search-feedback").status_code == 404
    admin = as_role("admin")
    assert "/admin/search-feedback" in admin.get("/admin/").get_data(as_text=True)
    page = admin.get("/admin/search-feedback").get_data(as_text=True)
    assert "голубиная почта не доходит" in page and "<code>доходит</code>" in page and "Проблема с чатами" in page
    assert "Ничего не найдено" in page
    row = SearchFeedback.get(SearchFeedback.topic_key == "")
    assert admin.post(f"/admin/search-feedback/{row.id}/dismiss").status_code == 303
    page = admin.get("/admin/search-feedback").get_data(as_text=True)
    assert "квантовый телепорт" not in page and "голубиная почта не доходит" in page
