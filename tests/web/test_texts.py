"""Every UI text comes from the catalog: templates hold no words of their own, and every key exists in ru and en."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from engine.catalog.loader import UI_DEFAULTS_DIR
from engine.delivery import UNDELIVERED
from engine.notify import channel_kinds
from engine.ticket_states import ACTIVE_STATUSES, PRIORITIES, STATUSES
from web.agent.views import STATUS_FILTERS
from web.context import LOCALES

WEB = Path(__file__).resolve().parents[2] / "web"
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
LETTER = re.compile(r"[^\W\d_]")
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
# Dynamic keys built in templates as prefix ~ value, with every value they can take.
DYNAMIC = {
    "status_": STATUSES, "staff_status_": STATUSES, "priority_": PRIORITIES, "priority_hint_": ("low", "high", "urgent"), "channel_": channel_kinds(),
    "locale_": LOCALES, "via_": ("web", "telegram", "api", "email"), "filter_status_": tuple(STATUS_FILTERS),
    "admin_delivery_": UNDELIVERED,
}


class TextCollector(HTMLParser):
    """Text nodes and user-visible attribute values outside Jinja expressions."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "meta":
            return  # technical metadata (charset, viewport, htmx config)
        shown = SHOWN_ATTRIBUTES | ({"value"} if dict(attrs).get("type") in ("submit", "button", "reset") else set())
        self.found += [value for name, value in attrs if name in shown and value]

    def handle_data(self, data):
        self.found.append(data)


def web_texts(locale: str) -> dict:
    return yaml.safe_load((UI_DEFAULTS_DIR / f"{locale}.yaml").read_text())["web"]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(WEB)))
def test_templates_contain_no_hard_coded_words(path):
    collector = TextCollector()
    collector.feed(JINJA.sub(" ", path.read_text()))
    words = [text.strip() for text in collector.found if LETTER.search(text)]
    assert words == [], f"hard-coded text in {path.name}: {words}"


def test_python_views_contain_no_customer_text():
    for path in WEB.rglob("*.py"):
        assert not re.search(r"[а-яА-ЯёЁ]", path.read_text()), path


def used_keys() -> set[str]:
    keys = set()
    sources = [p.read_text() for p in TEMPLATES] + [p.read_text() for p in WEB.rglob("*.py")]
    for text in sources:
        keys |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["'](?!\s*~)""", text))  # prefix ~ value: DYNAMIC
        keys |= set(re.findall(r"""(?:message_key|error_key|key)=["']([a-z0-9_]+)["']""", text))
        keys |= set(re.findall(r"""render_error\(\d+, ["']([a-z0-9_]+)["']""", text))
    from web.errors import MESSAGES
    keys |= set(MESSAGES.values()) | {"error_500"}
    for prefix, values in DYNAMIC.items():
        keys |= {prefix + str(v) for v in values}
    return keys


@pytest.mark.parametrize("locale", LOCALES)
def test_every_used_key_exists_in_both_locales(locale):
    missing = sorted(used_keys() - set(web_texts(locale)))
    assert missing == []


def test_ru_and_en_define_the_same_web_keys():
    assert set(web_texts("ru")) == set(web_texts("en"))


def test_active_statuses_are_a_subset_of_the_queue_filters():
    assert set(ACTIVE_STATUSES) <= set(STATUS_FILTERS)
