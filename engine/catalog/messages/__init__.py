"""Config errors and warnings in the reader's language: English is the source, `ru.yaml` its Russian catalog."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from engine.catalog.errors import ConfigError

LOCALES = ("en", "ru")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
VERBATIM = frozenset({"ref", "title", "was", "now"})  # parts copied as they are (ids and values of catalog diffs)


def localize(error: ConfigError, locale: str) -> str:
    """`file:line: key.path: message` (or `file:line: warning: ...`) with the message in `locale`."""
    english = str(error)
    if locale == "en":
        return english
    head = english[: len(english) - len(error.message)]
    return head + translate(error.message, locale)


def translate(message: str, locale: str) -> str:
    """`message` in `locale`; an English message with no entry in that catalog stays English."""
    catalog = _catalog(locale) if locale != "en" else None
    return _translate(message, catalog) if catalog else message


def _translate(text: str, catalog) -> str:
    patterns, words = catalog
    if text in words:
        return words[text]
    for pattern, names, target in patterns:
        match = pattern.fullmatch(text)
        if match:
            parts = {name: match.group(i + 1) if name in VERBATIM else _translate(match.group(i + 1), catalog)
                     for i, name in enumerate(names)}
            return _PLACEHOLDER.sub(lambda m: parts.get(m.group(1), m.group(0)), target)
    return text


@lru_cache(maxsize=None)
def _catalog(locale: str):
    """((regex, placeholder names, target text) in file order: wrappers first, words) of messages/<locale>.yaml."""
    path = Path(__file__).parent / f"{locale}.yaml"
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    patterns = []
    for source, target in data["messages"].items():
        names = _PLACEHOLDER.findall(source)
        regex = "".join(
            "(.+?)" if i % 2 else re.escape(part) for i, part in enumerate(_PLACEHOLDER.split(source))
        )
        patterns.append((re.compile(regex, re.S), names, target))
    return patterns, data.get("words", {})
