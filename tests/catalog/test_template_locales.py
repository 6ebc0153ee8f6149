"""Notification templates per locale: each language's template checked on its own (file:line), rendered in the
recipient's language on the web list, Telegram and email."""
from __future__ import annotations

from engine.catalog import load_catalog
from engine.render import render

BILINGUAL_TYPES = """
types:
  low_balance:
    title: {ru: Низкий баланс, en: Low balance}
    source: event
    params: {balance: number}
    default_channels: [web, telegram, email]
    templates:
      web: {ru: "Баланс {{ balance }}", en: "Balance {{ balance }}"}
      telegram:
        ru: "Баланс: {{ balance }}"
        en: "Balance: {{ balance }}"
      email:
        subject: {ru: "Баланс {{ balance }}", en: "Balance {{ balance }}"}
        body:
          ru: "Здравствуйте! Баланс {{ balance }}."
          en: "Hello! Balance {{ balance }}."
        html: {ru: "<p>Баланс {{ balance }}</p>", en: "<p>Balance {{ balance }}</p>"}
  plain:
    title: Просто
    source: event
    params: {balance: number}
    default_channels: [web]
    templates:
      web: "Баланс {{ balance }}"
"""
CHANNELS = "channels:\n  notify_bot: {kind: telegram, token_env: NOTIFY_BOT_TOKEN}\n  email: {kind: email, smtp_url_env: SMTP_URL}\n  web: {kind: web}\n"


def test_each_channel_renders_in_the_recipients_locale(mini):
    mini.write("notifications/types.yaml", BILINGUAL_TYPES)
    mini.write("notifications/channels.yaml", CHANNELS)
    catalog = load_catalog("config")
    params = {"balance": 5}
    assert render(catalog, "low_balance", "web", params, "en").text == "Balance 5"
    assert render(catalog, "low_balance", "web", params, "ru").text == "Баланс 5"
    assert render(catalog, "low_balance", "telegram", params, "en").text == "Balance: 5"
    assert render(catalog, "low_balance", "telegram", params).text == "Баланс: 5"  # no locale: the default
    email = render(catalog, "low_balance", "email", params, "en")
    assert (email.subject, email.text.split("\n\n-- \n")[0]) == ("Balance 5", "Hello! Balance 5.")
    assert "<p>Balance 5</p>" in email.html and 'lang="en"' in email.html
    assert render(catalog, "low_balance", "email", params, "ru").subject == "Баланс 5"
    assert render(catalog, "plain", "web", params, "en").text == "Баланс 5"  # a plain string serves every locale
    assert catalog.notification_types["low_balance"].title.in_("en") == "Low balance"
    assert catalog.channels["notify_bot"].title is None


def test_an_undeclared_param_in_either_variant_is_an_error_at_its_line(mini):
    mini.write("notifications/channels.yaml", CHANNELS)
    mini.write("notifications/types.yaml", BILINGUAL_TYPES.replace('en: "Balance: {{ balance }}"', 'en: "Balance: {{ amount }}"')
               .replace('subject: {ru: "Баланс {{ balance }}"', 'subject: {ru: "Баланс {{ balans }}"'))
    assert mini.errors() == [
        "config/notifications/types.yaml:11: types.low_balance.templates.telegram.en: template uses undeclared param 'amount' (declared params: balance)",
        "config/notifications/types.yaml:13: types.low_balance.templates.email.subject.ru: template uses undeclared param 'balans' (declared params: balance)",
    ]


def test_a_template_without_a_declared_locale_is_a_warning(mini):
    mini.write("notifications/channels.yaml", CHANNELS)
    mini.write("notifications/types.yaml", BILINGUAL_TYPES)
    mini.write("policies.yaml", "policies:\n  locales: [ru, en]\n")
    warnings = [str(w) for w in load_catalog("config").warnings if "types.yaml" in w.file and "version" in w.message]
    assert warnings == ["config/notifications/types.yaml:19: warning: types.plain.title: 2 texts have no 'en' version, "
                        "the first here: write {ru: ..., en: ...}"]
