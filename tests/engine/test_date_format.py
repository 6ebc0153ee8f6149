"""A date field's hint and its error name the same formats, and both formats are accepted."""
from __future__ import annotations

import pytest

from engine.catalog.loader import builtin_ui_texts
from engine.forms import InvalidValue, clean_date

FORMATS = {"ru": ("ДД.ММ.ГГГГ", "ГГГГ-ММ-ДД"), "en": ("DD.MM.YYYY", "YYYY-MM-DD")}


@pytest.mark.parametrize("locale", FORMATS)
def test_hint_and_error_name_both_formats(locale):
    texts = builtin_ui_texts()[1][locale]
    for text in (texts["telegram"]["hint_date"], texts["validation"]["not_date"]):
        assert all(name in text for name in FORMATS[locale]), text


def test_both_formats_are_accepted():
    assert clean_date(None, "05.12.2026") == clean_date(None, "2026-12-05") == "2026-12-05"
    with pytest.raises(InvalidValue):
        clean_date(None, "12/05/2026")
