"""examples/planetahost reproduces seed 000: one support flow and the notification bot's types."""
from __future__ import annotations

SEED_000_TYPES = {
    "low_balance": "Уведомление о низком балансе",
    "service_deletion_soon": "Уведомление о скором удалении услуги",
    "support_reply": "Ответ технической поддержки в запросе",
    "payment_credited": "Уведомление о зачислении платежа",
    "service_stopped": "Уведомление об остановке услуги",
}
LIFECYCLE_TYPES = {"ticket_created", "ticket_archived", "ticket_auto_closed", "auto_close_reminder"}


def test_the_bot_offers_one_topic_with_the_seeds_flow(planetahost):
    """Subject -> service ID (skippable) -> message -> up to 5 files."""
    [topic] = [t for c in planetahost.categories_for("telegram") for t in c.topics_for("telegram")]
    fields = planetahost.form_for(topic).fields
    assert [f.id for f in fields] == ["subject", "service_id", "message", "attachments"]
    service = fields[1]
    assert service.label == "ID услуги в системе BILLmanager"
    assert service.skippable and not service.required and "Пропустить" in service.help
    assert fields[3].max_files == 5


def test_both_seeds_have_the_notification_bots_types(planetahost, twin):
    for catalog in (planetahost, twin):
        types = catalog.notification_types
        assert {k: types[k].title for k in SEED_000_TYPES} == SEED_000_TYPES
        assert LIFECYCLE_TYPES <= set(types)
        assert {types[k].source for k in SEED_000_TYPES if k != "support_reply"} == {"event"}
        assert {types[k].source for k in LIFECYCLE_TYPES | {"support_reply"}} == {"ticket"}


def test_two_bots_linked_by_username(planetahost):
    bots = planetahost.bindings(kind="telegram")
    assert {name: (b.username, tuple(b.serves), b.link_by_username) for name, b in bots.items()} == {
        "notify_bot": ("PlanetaHost_bot", ("notifications",), True),
        "support_bot": ("sup_planetahost_bot", ("tickets",), True),
    }
    assert "support_reply" in bots["support_bot"].notifications
