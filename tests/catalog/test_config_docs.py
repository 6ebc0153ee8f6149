"""docs/CONFIG.md documents every key of every config file kind, and the built-in UI texts agree."""
from __future__ import annotations

import re
import string
import typing

import yaml
from pydantic import BaseModel

from engine.catalog.json_schema import file_kinds
from engine.catalog.loader import UI_DEFAULTS_DIR
from engine.settings import PROJECT_ROOT

DOC = (PROJECT_ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
MARKER = re.compile(r"<!-- schema: (\w+) -->")


def _models() -> list[type[BaseModel]]:
    """Every model reachable from the file kinds."""
    found: list[type[BaseModel]] = []

    def walk(tp):
        for arg in typing.get_args(tp):
            walk(arg)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in found:
            found.append(tp)
            for f in tp.model_fields.values():
                walk(f.annotation)

    for model in file_kinds().values():
        walk(model)
    return found


def _own_keys(model: type[BaseModel]) -> list[str]:
    """Keys the model declares itself (inherited ones are documented with the parent)."""
    inherited = {k for base in model.__mro__[1:] if isinstance(base, type) and issubclass(base, BaseModel) for k in base.model_fields}
    return [f.alias or name for name, f in model.model_fields.items() if name not in inherited]


def _sections() -> dict[str, str]:
    parts = MARKER.split(DOC)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_key_is_documented():
    """Each model has a `<!-- schema: Name -->` section naming each of its keys as `key`."""
    sections = _sections()
    missing = [
        f"{model.__name__}.{key}" for model in _models() for key in _own_keys(model)
        if f"`{key}`" not in sections.get(model.__name__, "")
    ]
    assert missing == [], f"undocumented in docs/CONFIG.md: {missing}"


def test_no_section_for_a_model_that_does_not_exist():
    """Sections follow renames in schema.py."""
    assert set(_sections()) <= {m.__name__ for m in _models()}


def test_builtin_ui_texts_have_the_same_keys_and_placeholders():
    """Every key exists in both ru.yaml and en.yaml, with the same {placeholders}."""
    texts = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in UI_DEFAULTS_DIR.glob("*.yaml")}

    def shape(data):
        return {
            (section, key): sorted(name for _, name, _, _ in string.Formatter().parse(text) if name)
            for section in ("web", "telegram", "email", "validation") for key, text in (data.get(section) or {}).items()
        }

    assert shape(texts["ru"]) == shape(texts["en"])
