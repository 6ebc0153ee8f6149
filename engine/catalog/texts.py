"""Catalog texts in several languages: a YAML text is a string, or one per locale (`{ru: ..., en: ...}`).

A text with translations becomes a `LocalText`: a `str` holding the default locale's text (so every reader that
does not ask for a locale keeps working) that also knows its other versions: `text.in_(locale)`.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Mapping


class LocalText(str):
    """The default locale's text, with its translations; `in_(locale)` falls back to the default."""

    translations: Mapping[str, str]

    def __new__(cls, default: str, translations: Mapping[str, str]):
        text = super().__new__(cls, default)
        text.translations = MappingProxyType(dict(translations))
        return text

    def in_(self, locale: str) -> str:
        return self.translations.get(locale, str(self))

    def __reduce__(self):
        return LocalText, (str(self), dict(self.translations))


def local_text(value, default_locale: str):
    """A YAML text as the catalog holds it: a plain string stays one; a per-locale mapping becomes a LocalText."""
    if not isinstance(value, dict):
        return value
    default = value.get(default_locale) or next(iter(value.values()))
    return LocalText(default, value)


def localized_model(model, keys, default_locale: str):
    """A copy of a loaded pydantic model whose `keys` hold LocalTexts for per-locale mappings; a nested model
    (an email template) has every one of its texts converted."""
    update = {}
    for key in keys:
        value = getattr(model, key)
        if hasattr(type(value), "model_fields"):
            update[key] = localized_model(value, type(value).model_fields, default_locale)
        else:
            update[key] = local_text(value, default_locale)
    return model.model_copy(update=update)


def in_locale(value, locale: str):
    """`value` in `locale` when it is a LocalText, else unchanged (for edges rendering any value)."""
    return value.in_(locale) if isinstance(value, LocalText) else value


def all_versions(value) -> tuple[str, ...]:
    """Every language version of a text (one for a plain string)."""
    return tuple(dict.fromkeys(value.translations.values())) if isinstance(value, LocalText) else (value,)


def text_data(value):
    """A text as JSON-ready data: a LocalText keeps its translations (`{"text": ..., "in": {locale: ...}}`)."""
    return {"text": str(value), "in": dict(value.translations)} if isinstance(value, LocalText) else value


def text_from_data(value):
    """What `text_data` wrote, as a text again (a plain string as it is)."""
    if isinstance(value, Mapping) and isinstance(value.get("text"), str) and isinstance(value.get("in"), Mapping):
        return LocalText(value["text"], {str(k): str(v) for k, v in value["in"].items()})
    return value
