"""Lint: what loads fine but likely confuses customers. Warnings never block a reload (`config check --strict` does)."""
from __future__ import annotations

import re
import typing
from dataclasses import dataclass

from jinja2 import TemplateSyntaxError

from engine.catalog.errors import ConfigError
from engine.catalog.resolve import LayeredField
from engine.catalog.schema import Locale
from engine.catalog.templates import variables
from engine.ticket_notifications import TEAM_NOTIFICATIONS, TICKET_NOTIFICATIONS, params_of

# A field asking for an identifier: its id ends in _id, or its label says ID / идентификатор.
_ID_LABEL = re.compile(r"\bID\b|идентификатор", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class ConfigWarning(ConfigError):
    """A lint finding, printed `file:line: warning: key.path: message`."""

    def __str__(self) -> str:
        head, _, rest = super().__str__().partition(": ")
        return f"{head}: warning: {rest}"

    def as_error(self) -> ConfigError:
        return ConfigError(self.file, self.line, self.path, self.message)


def _versions(text) -> list[str]:
    """The language versions of a YAML text (a string or a per-locale mapping)."""
    return list(text.values()) if isinstance(text, dict) else [text]


def _joined(text) -> str:
    return " ".join(_versions(text))


def warning(error: ConfigError) -> ConfigWarning:
    return ConfigWarning(error.file, error.line, error.path, error.message)


def warnings_of(resolved, categories, types, types_src, channels: dict, text_sources, locales: list[str]) -> list[ConfigWarning]:
    """Every lint finding of a loaded config (`channels`: the installed channels by kind)."""
    return (id_fields_without_help(resolved) + duplicate_topic_titles(categories) + topics_without_keywords(categories)
            + unused_template_params(types, types_src, channels) + ticket_types_the_engine_does_not_send(types, types_src)
            + missing_locales(text_sources, locales))


def id_fields_without_help(resolved: dict[str, list[LayeredField]]) -> list[ConfigWarning]:
    """An identifier field without `help` leaves the customer guessing where to find the value."""
    found = []
    for fields in resolved.values():
        for f in fields:
            if f.spec.get("help") or f.spec.get("type", "string") not in ("string", "integer"):
                continue
            if f.id.endswith("_id") or _ID_LABEL.search(_joined(f.spec.get("label", ""))):
                found.append(warning(f.error("label", f"field '{f.id}' asks for an identifier but has no help: say where to find it (help: ...)")))
    return found


def duplicate_topic_titles(categories) -> list[ConfigWarning]:
    """A topic title used in several categories: a search shows alike topics. One warning per title, in the second category."""
    uses: dict[str, list[tuple]] = {}
    for decl in categories:
        for i, topic in enumerate(decl.category.topics):
            for title in _versions(topic.title):
                uses.setdefault(" ".join(title.lower().split()), []).append((decl, i))
    found = []
    for group in uses.values():
        category_ids = list(dict.fromkeys(decl.category.id for decl, _ in group))
        if len(category_ids) < 2:
            continue
        decl, i = next((d, i) for d, i in group if d.category.id == category_ids[1])
        others = ", ".join(c for c in category_ids if c != category_ids[1])
        message = (f"topic title '{_versions(decl.category.topics[i].title)[0]}' is also used in {others}: customers searching see alike "
                   "topics; make the titles differ if they are different requests")
        found.append(warning(decl.source.error(("topics", i, "title"), message)))
    return found


def topics_without_keywords(categories) -> list[ConfigWarning]:
    return [
        warning(decl.source.error(("topics", i, "id"), f"topic '{topic.id}' has no keywords: add words customers would type to find it"))
        for decl in categories for i, topic in enumerate(decl.category.topics) if not topic.keywords
    ]


def unused_template_params(types, src, channels: dict) -> list[ConfigWarning]:
    """A declared param no template of its type uses: a typo in a template, or a param to drop."""
    found = []
    for type_id, spec in types.types.items():
        used: set[str] = set()
        for kind, template in spec.templates:
            for text in channels[kind].template_texts(template).values():
                if text is None:
                    continue
                try:
                    used |= variables(text)
                except TemplateSyntaxError:
                    continue
        for name in spec.params:
            if name not in used:
                found.append(warning(src.error(("types", type_id, "params", name), f"param '{name}' is never used by a template of '{type_id}'")))
    return found


def ticket_types_the_engine_does_not_send(types, src) -> list[ConfigWarning]:
    """A `source: ticket` or `staff` type the engine never raises, or a param it never passes (the template would show nothing)."""
    found = []
    for type_id, spec in types.types.items():
        raised = {"ticket": TICKET_NOTIFICATIONS, "staff": TEAM_NOTIFICATIONS}.get(spec.source)
        if raised is None:
            continue
        if type_id not in raised:
            known = ", ".join(raised)
            found.append(warning(src.error(("types", type_id, "source"), f"the engine never raises '{type_id}' (it raises {known}); "
                                           "use source: event to post it through the events API")))
            continue
        for name in spec.params:
            if name not in params_of(type_id):
                found.append(warning(src.error(("types", type_id, "params", name), f"the engine does not pass '{name}' with '{type_id}' "
                                               f"(it passes {', '.join(params_of(type_id))})")))
    return found


LOCALES = frozenset(typing.get_args(Locale))
TEXT_KEYS = frozenset({"title", "description", "label", "help", "placeholder", "pattern_message", "keywords", "body"})


def missing_locales(sources, locales: list[str]) -> list[ConfigWarning]:
    """Per file, the texts without a version in one of the declared `locales`: one warning at the first of them."""
    found = []
    for source in sources:
        missing: dict[str, list] = {}
        for path, value in _texts(source.data, ()):
            have = set(value) if isinstance(value, dict) else set(locales[:1])
            for locale in locales:
                if locale not in have:
                    missing.setdefault(locale, []).append(path)
        for locale, paths in missing.items():
            count = f"{len(paths)} texts have" if len(paths) > 1 else "a text has"
            found.append(warning(source.error(paths[0], f"{count} no '{locale}' version, the first here: write {{{', '.join(f'{loc}: ...' for loc in locales)}}}")))
    return found


def _texts(data, path):
    """(key path, value) of every catalog text in a category or form file's data."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in TEXT_KEYS and value not in (None, "", []) and not isinstance(value, bool):
                yield path + (key,), value
            elif key == "templates" and isinstance(value, dict):
                yield from _template_texts(value, path + (key,))
            elif isinstance(value, (dict, list)):
                yield from _texts(value, path + (key,))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _texts(item, path + (i,))


def _template_texts(templates: dict, path):
    """(key path, value) of every template of a notification type: a string or a per-locale mapping, at any depth."""
    for key, value in templates.items():
        if isinstance(value, str) or (isinstance(value, dict) and value and set(value) <= LOCALES):
            yield path + (key,), value
        elif isinstance(value, dict):
            yield from _template_texts(value, path + (key,))
