"""What changed between two catalogs, for people: categories, topics, forms, fields, UI texts, notification types,
policies, channel bindings, canned replies, teams, their members, routing rules and SLA settings added, removed or
changed, with the old and the new value (an added or removed single value shows that value).

Lines are English (`+ topic chats/new: "Новая тема"`, `~ field chat-problem/account_id: label: "a" -> "b"`) and
worded in another locale through the config message catalog (engine.catalog.messages), which also words the
English lines stored in a version's summary.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterable

from pydantic import BaseModel

from engine.catalog.catalog import Catalog
from engine.catalog.messages import translate
from engine.catalog.schema import SelectOption
from engine.catalog.texts import LocalText

# Kinds in the order lines are listed; each is one word (the message catalog words it).
KINDS = ("category", "topic", "form", "field", "text", "notification", "policy", "channel", "reply", "team", "member",
         "routing", "sla")
BASELINE_KINDS = ("category", "topic", "form", "notification", "channel", "reply", "team")  # against no catalog: what it holds
FIELD_ORDER = "field order"  # the form attribute that lists its fields' order when the shared ones moved
MISSING = "—"
LISTED = frozenset({"routing"})  # kinds with no title: an added or removed one's line shows every attribute


@dataclass(frozen=True)
class Change:
    """One change: `op` is added | removed | changed; `attr` names the changed attribute ("" for a single value);
    `old`/`new` are catalog values (a LocalText, a tuple of options...), `title` names an added or removed item."""

    kind: str
    ref: str
    op: str
    attr: str = ""
    old: object = None
    new: object = None
    title: object = None

    def line(self, locale: str = "en", values: str | None = None) -> str:
        """The change in one line worded in `locale`, its texts in `values` (default: `locale`)."""
        values = values or locale
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.op]
        head = f"{sign} {self.kind} {self.ref}"
        if self.op != "changed":
            english = head + (f": {shown(self.title, values)}" if self.title else "")
        else:
            attr = f"{self.attr}: " if self.attr else ""
            old, new = shown(self.old, values), shown(self.new, values)
            if old == new:  # another language's version changed: show every version
                old, new = shown(_versions(self.old), values), shown(_versions(self.new), values)
            english = f"{head}: {attr}{old} -> {new}"
        return translate(english, locale)


@dataclass(frozen=True)
class CatalogDiff:
    """The changes of `catalog_diff`, by kind (KINDS order), then added, removed, changed, then by ref."""

    changes: tuple[Change, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.changes

    def __bool__(self) -> bool:
        return bool(self.changes)

    def lines(self, locale: str = "en", values: str | None = None) -> list[str]:
        """One line per change (see Change.line)."""
        return [c.line(locale, values) for c in self.changes]

    def of(self, kind: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == kind)

    def as_dict(self) -> dict:
        """For the audit log: the English lines."""
        return {"lines": self.lines()}

    def changed_topics(self, catalog: Catalog) -> list[str]:
        """Keys of the topics of `catalog` whose customers see something else: the topic itself, or its form or one
        of the form's fields changed (or the topic is new)."""
        topics = {c.ref for c in self.of("topic") if c.op != "removed"}
        forms = {c.ref for c in self.of("form")} | {c.ref.split("/")[0] for c in self.of("field")}
        return [t.key for t in catalog.all_topics() if t.key in topics or t.form_id in forms]


def catalog_diff(old: Catalog | None, new: Catalog) -> CatalogDiff:
    """Every change from `old` to `new`; from no catalog (`old` None), the items `new` holds (BASELINE_KINDS: not each
    field, text and policy)."""
    kinds = KINDS if old is not None else BASELINE_KINDS
    before, after = (_items(old) if old is not None else {}), _items(new)
    changes: list[Change] = []
    for kind in kinds:
        changes += _compare(kind, before.get(kind, {}), after[kind])
        if kind == "form" and old is not None:
            changes += _field_order(old, new)
    return CatalogDiff(tuple(changes))


def shown(value, locale: str) -> str:
    """A value as a diff line shows it: texts quoted, in `locale`; yes/no; lists comma separated; `—` for none."""
    if value is None or value in ((), [], {}):
        return MISSING
    if isinstance(value, bool):
        return translate("yes" if value else "no", locale)
    if isinstance(value, LocalText):
        return f'"{value.in_(locale)}"'
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, SelectOption):
        return shown(value.label or value.value, locale)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {shown(v, locale)}" for k, v in value.items())
    if isinstance(value, (tuple, list)):
        return ", ".join(shown(v, locale) for v in value)
    return str(value)


def _versions(value):
    """A text's language versions as a mapping (`ru: "..", en: ".."`); other values unchanged."""
    return dict(value.translations) if isinstance(value, LocalText) else value


# --- comparing --------------------------------------------------------------------------------------------------


def _compare(kind: str, old: dict[str, dict], new: dict[str, dict]) -> list[Change]:
    out = [Change(kind, ref, "added", title=_title(kind, new[ref])) for ref in sorted(new.keys() - old.keys())]
    out += [Change(kind, ref, "removed", title=_title(kind, old[ref])) for ref in sorted(old.keys() - new.keys())]
    for ref in sorted(old.keys() & new.keys()):
        was, now = old[ref], new[ref]
        for attr in [*was, *(a for a in now if a not in was)]:
            if _same(was.get(attr), now.get(attr)):
                continue
            out.append(Change(kind, ref, "changed", attr, was.get(attr), now.get(attr)))
    return sorted(out, key=lambda c: (("added", "removed", "changed").index(c.op), c.ref))  # stable: attrs in order


def _title(kind: str, attrs: dict):
    """What an added or removed item's line shows: its title, else its single value (else, LISTED, its attributes)."""
    return attrs.get("title", attrs.get("", attrs if kind in LISTED else None))


def _field_order(old: Catalog, new: Catalog) -> list[Change]:
    """A form whose fields present in both versions are asked in another order."""
    out = []
    for form_id in sorted(old.forms.keys() & new.forms.keys()):
        was = [f.id for f in old.forms[form_id].fields]
        now = [f.id for f in new.forms[form_id].fields]
        shared = set(was) & set(now)
        if [i for i in was if i in shared] != [i for i in now if i in shared]:
            out.append(Change("form", form_id, "changed", FIELD_ORDER, tuple(was), tuple(now)))
    return out


_PLAIN = frozenset({str, int, float, bool, type(None)})  # compared as they are (a LocalText is not one: a subclass)


def _same(a, b) -> bool:
    if type(a) in _PLAIN and type(b) in _PLAIN:
        return a == b
    return _comparable(a) == _comparable(b)


def _comparable(value):
    """Equal for equal content: a LocalText with all its languages, options by value and label."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, LocalText):
        return LocalText, dict(value.translations)
    if isinstance(value, BaseModel):
        return _comparable(value.model_dump())
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return tuple(_comparable(v) for v in value)
    return value


def _items(catalog: Catalog) -> dict[str, dict[str, dict]]:
    """kind -> ref -> attribute -> value: what `catalog_diff` compares."""
    return {
        "category": {c.id: _attrs(c, exclude=("id", "topics")) for c in catalog.categories},
        "topic": {t.key: {"form" if k == "form_id" else k: v for k, v in _attrs(t, ("category_id", "id")).items()}
                  for t in catalog.all_topics()},
        "form": {f.id: {"title": f.title} for f in catalog.forms.values()},
        "field": {f"{form.id}/{field.id}": _field_attrs(field) for form in catalog.forms.values() for field in form.fields},
        "text": {f"{loc}:{section}.{key}": {"": text} for loc, sections in catalog.ui.items()
                 for section, texts in sections.items() for key, text in texts.items()},
        "notification": {i: _flat(spec.model_dump()) for i, spec in catalog.notification_types.items()},
        "policy": {key: {"": value} for key, value in _flat(catalog.policies.model_dump()).items()},
        "channel": {i: _flat(b.model_dump()) for i, b in catalog.channels.items()},
        "reply": {r.id: _attrs(r, ("id",)) for r in catalog.replies.values()},
        "team": {t.id: {"title": t.title, **_flat(dict(t.notify), "notify.")} for t in catalog.teams.values()},
        "member": {f"{t.id}/{email}": {} for t in catalog.teams.values() for email in t.members},
        "routing": {**{f"#{i}": _rule(r) for i, r in enumerate(catalog.routing.rules, 1)},
                    **({"default": {"": catalog.routing.default}} if catalog.routing.default else {})},
        "sla": {key: {"": value} for key, value in (catalog.sla.flat() if catalog.sla else {}).items()},
    }


def _rule(rule) -> dict:
    """A routing rule as teams.yaml writes it: its team and the conditions given."""
    conditions = {"category": rule.categories, "topic": rule.topics, "priority": rule.priorities,
                  **{f"fields.{k}": v for k, v in rule.fields.items()}}
    return {"team": rule.team, **{k: v for k, v in conditions.items() if v is not None}}


def _field_attrs(field) -> dict:
    """A field's attributes; `skippable` only when it is not its default (`not required`), so a changed `required`
    is one change."""
    return _attrs(field, ("id", "skippable") if field.skippable != field.required else ("id",))


def _attrs(item, exclude: Iterable[str]) -> dict:
    """A dataclass's attributes by name, without `exclude`, values as they are (not copied into dicts)."""
    return {f.name: getattr(item, f.name) for f in dataclasses.fields(item) if f.name not in exclude}


def _flat(data: dict, prefix: str = "") -> dict:
    """Nested mappings as dotted keys (`templates.email.subject`); lists and plain values stay."""
    out = {}
    for key, value in data.items():
        if isinstance(value, dict) and value and not set(value) <= {"ru", "en"}:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
