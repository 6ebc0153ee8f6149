"""Every text people read in the shipped configs (the Twin config and the examples) is written in Russian and English."""
from __future__ import annotations

import re

import pytest
import yaml

from engine.catalog.lint import _texts
from engine.settings import PROJECT_ROOT

SHIPPED = [PROJECT_ROOT / "config", PROJECT_ROOT / "examples" / "planetahost"]
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def _russian_only(data) -> list[tuple]:
    """Texts of a file that are plain (one language) and have Russian words; a language-neutral placeholder such as
    `+7 900 123-45-67` or `sip.example.com` needs no translation."""
    return [path for path, value in _texts(data, ()) if not isinstance(value, dict) and CYRILLIC.search(str(value))]


@pytest.mark.parametrize("root", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_text_has_russian_and_english(root):
    untranslated, incomplete = {}, {}
    for path in sorted(root.glob("[cfnr]*/*.yaml")):  # categories, forms, notifications, replies
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        rel = path.relative_to(root).as_posix()
        if found := _russian_only(data):
            untranslated[rel] = found
        if found := [p for p, v in _texts(data, ()) if isinstance(v, dict) and set(v) != {"ru", "en"}]:
            incomplete[rel] = found
    assert untranslated == {} and incomplete == {}
