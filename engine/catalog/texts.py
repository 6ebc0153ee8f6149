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


def in_locale(value, locale: str):
    """`value` in `locale` when it is a LocalText, else unchanged (for edges rendering any value)."""
    return value.in_(locale) if isinstance(value, LocalText) else value


def all_versions(value) -> tuple[str, ...]:
    """Every language version of a text (one for a plain string)."""
    return tuple(dict.fromkeys(value.translations.values())) if isinstance(value, LocalText) else (value,)
