"""UI text overrides may use only the placeholders of their built-in text, as plain `{name}`."""
from __future__ import annotations

import pytest

from engine.catalog import load_catalog
from engine.catalog.loader import UI_DEFAULTS_DIR, builtin_ui_texts
from engine.catalog.ui_format import SAFE_FORMATTER, placeholders
from engine.catalog.yaml_positions import parse_yaml

HOSTILE = """
locale: ru
telegram:
  ticket_created: "Запрос #{numbr} создан"
  ticket_header: "{number.__class__.__mro__}"
  ask_reply: "{number[0]} {0} {}"
  reply_added: "{number!r} {number:>99999999}"
  archived: "Запрос #{number"
  skip: "Дальше {number}"
"""


def test_hostile_overrides_are_refused_at_load(mini):
    """A typo that raised KeyError after the ticket was created, and attribute access that rendered Python internals."""
    mini.write("ui/ru.yaml", HOSTILE)
    not_plain = "is not a plain name: attribute, index and positional access are not allowed"
    assert mini.errors() == [
        "config/ui/ru.yaml:3: telegram.ticket_created: unknown placeholder {numbr} (this text may use: {number}) (did you mean 'number'?)",
        f"config/ui/ru.yaml:4: telegram.ticket_header: placeholder {{number.__class__.__mro__}} {not_plain}",
        f"config/ui/ru.yaml:5: telegram.ask_reply: placeholder {{0}} {not_plain}",
        f"config/ui/ru.yaml:5: telegram.ask_reply: placeholder {{number[0]}} {not_plain}",
        f"config/ui/ru.yaml:5: telegram.ask_reply: placeholder {{}} {not_plain}",
        "config/ui/ru.yaml:6: telegram.reply_added: placeholder {number!r} has a conversion or format spec: write {number}",
        "config/ui/ru.yaml:6: telegram.reply_added: placeholder {number:>99999999} has a conversion or format spec: write {number}",
        "config/ui/ru.yaml:7: telegram.archived: invalid placeholder syntax: expected '}' before end of string (write a literal brace as {{ or }})",
        "config/ui/ru.yaml:8: telegram.skip: unknown placeholder {number} (this text has no placeholders)",
    ]


def test_allowed_placeholders_and_literal_braces_render(mini):
    mini.write("ui/en.yaml", 'locale: en\ntelegram:\n  ticket_header: "#{number} {{{subject}}} [{status}/{topic}]"\n')
    catalog = load_catalog("config")
    text = catalog.text("en", "telegram", "ticket_header", number=7, subject="S", status="new", topic="T")
    assert text == "#7 {S} [new/T]"


def test_runtime_formatting_allows_plain_names_only():
    """Whatever text reaches formatting, attribute access, conversions and specs raise instead of rendering."""
    assert SAFE_FORMATTER.format("#{number}, {missing}", number=5) == "#5, {missing}"
    for text in ("{number.__class__.__mro__}", "{number[0]}", "{0}", "{number!r}", "{number:>999}"):
        with pytest.raises(ValueError):
            SAFE_FORMATTER.format(text, "x", number="12")


def test_built_in_texts_agree_on_placeholders():
    """The built-in texts declare each key's placeholders: every locale uses the same ones."""
    _, texts = builtin_ui_texts()
    ru = texts["ru"]
    for locale, sections in texts.items():
        for section, keys in sections.items():
            for key, text in keys.items():
                assert placeholders(text) == placeholders(ru[section][key]), f"{locale} {section}.{key}"


@pytest.mark.parametrize("path", sorted(UI_DEFAULTS_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_builtin_texts_have_no_duplicate_keys(path):
    """A key written twice in a section silently replaced the first text (a search page's label overrode the portal's)."""
    assert parse_yaml(path.read_bytes()).duplicates == []
