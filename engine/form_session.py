"""A topic's form as the steps any channel asks: order, visibility, skips, the file step and its limits.

The web page and the Telegram conversation both drive a FormSession; neither evaluates visible_when or
builds attachment limits itself. A session is plain data (to_dict/from_dict) so a bot can keep it between
updates, and it remembers the catalog version it was built on so a reload is noticed at each step.
"""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field as dataclass_field
from typing import Mapping

from engine.catalog import Catalog
from engine.catalog.catalog import Field, Topic
from engine.catalog.schema import SelectOption
from engine.catalog.texts import text_data, text_from_data
from engine.errors import FormSessionInvalid
from engine.forms import FIELD_TYPES, TEXT_CAP, clean_field, clean_value, text_limit, visible_ids

FORMAT = 1  # layout of FormSession.to_dict(); a new layout bumps it and keeps a reader for the old one
MESSAGE = "message"
ATTACHMENTS = "attachments"


class Availability(enum.Enum):
    """What a reload did to the topic a session is filling in."""

    CURRENT = "current"  # built on the running catalog
    CHANGED = "changed"  # the catalog changed, the topic is still offered on the session's channel
    UNAVAILABLE = "unavailable"  # the topic exists but is no longer offered on the session's channel
    GONE = "gone"  # the topic was removed


@dataclass(frozen=True)
class Rebase:
    """A session moved onto the running catalog's form: what became of the answers given so far."""

    session: "FormSession"  # on the running form, with the answers that still apply
    removed: tuple[Field, ...]  # answered fields the form no longer has (their answers dropped)
    refused: tuple[Field, ...]  # answered fields whose new rules refuse the answer (to be asked again)
    changed: frozenset[str]  # ids of the fields kept whose rules or options changed


@dataclass(frozen=True)
class FileLimits:
    """How many files, how big and of which types a step accepts."""

    max_files: int
    max_file_size_mb: float
    allowed_types: tuple[str, ...]

    @classmethod
    def of(cls, field: Field) -> "FileLimits":
        return cls(field.max_files, field.max_file_size_mb, tuple(field.allowed_types))

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_size_mb * 1024 * 1024)


def policy_files_field(catalog: Catalog) -> Field:
    """Files under the attachment policy: a reply's, and a form's that has no attachments field."""
    att = catalog.policies.attachments
    return Field(id=ATTACHMENTS, label=ATTACHMENTS, type="attachments", max_files=att.max_files,
                 max_file_size_mb=att.max_file_size_mb, allowed_types=tuple(att.allowed_types))


def reply_fields(catalog: Catalog) -> tuple[Field, Field]:
    """The implicit form of a reply: a body and files under the attachment policy (every channel's limits)."""
    return Field(id=MESSAGE, label=MESSAGE, type="text", max_length=TEXT_CAP), policy_files_field(catalog)


@dataclass(frozen=True)
class Step:
    """One question of the form: its field and how a channel should ask it."""

    field: Field
    index: int
    collects_files: bool  # text plus files: the message field, or a lone attachments field

    @property
    def id(self) -> str:
        return self.field.id

    @property
    def skippable(self) -> bool:
        """An optional field may be skipped (Telegram's «Пропустить»)."""
        return self.field.skippable and not self.field.required

    @property
    def text_limit(self) -> int | None:
        """Characters the answer may have (None for types without text)."""
        return text_limit(self.field) if self.field.type in ("string", "text", "email") else None


@dataclass
class FormSession:
    """A topic's resolved fields as they were when the session started, with the raw answers so far."""

    topic_key: str
    topic_title: str
    topic_description: str
    channel: str
    catalog_version: str
    fields: tuple[Field, ...]
    files_field: Field  # where files go and their limits (the form's attachments field, else the policy's)
    values: dict[str, object] = dataclass_field(default_factory=dict)  # raw answers by field id
    done: list[str] = dataclass_field(default_factory=list)  # answered or skipped: not asked again
    # (fields, files_field, their JSON): to_dict reuses the JSON while those two are the objects it was made of
    _fields_json: tuple | None = dataclass_field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def start(cls, catalog: Catalog, topic: Topic, channel: str, values: Mapping[str, object] | None = None) -> "FormSession":
        """A session on the running catalog's form of `topic`."""
        fields = catalog.form_for(topic).fields
        files = next((f for f in fields if f.type == "attachments"), None) or policy_files_field(catalog)
        return cls(topic.key, topic.title, topic.description, channel, catalog.version, tuple(fields), files,
                   dict(values or {}))

    def rebuilt(self, catalog: Catalog) -> "FormSession | None":
        """The same answers on the running catalog's form; None when the topic is gone."""
        topic = catalog.topic(self.topic_key)
        if topic is None:
            return None
        fresh = FormSession.start(catalog, topic, self.channel, self.values)
        fresh.done = [d for d in self.done if fresh.field(d) is not None]
        return fresh

    def rebased(self, catalog: Catalog) -> Rebase | None:
        """The session on the running form when a reload changed the fields in substance (ids, types, rules,
        options, order); None when only their wording changed (the session goes on as started) or the topic is gone.
        """
        fresh = self.rebuilt(catalog)
        if fresh is None:
            return None
        if [_substance(f) for f in fresh.fields] == [_substance(f) for f in self.fields]:
            self.catalog_version = catalog.version  # nothing that matters changed: not compared again
            return None
        answered = [self.field(d) for d in self.done if self.field(d) is not None]
        removed = tuple(f for f in answered if fresh.field(f.id) is None)
        refused = []
        for field in answered:
            new = fresh.field(field.id)
            if new is not None and field.id in fresh.values and \
                    clean_field(catalog, new, fresh.values[field.id], catalog.policies.default_locale)[1]:
                fresh.reopen(field.id)
                refused.append(new)
        for field in removed:
            fresh.values.pop(field.id, None)
        changed = frozenset(f.id for f in self.fields if fresh.field(f.id) is not None
                            and _substance(fresh.field(f.id)) != _substance(f))
        return Rebase(fresh, removed, tuple(refused), changed)

    def availability(self, catalog: Catalog) -> Availability:
        """Whether a reload since the session started removed its topic or took it off the session's channel."""
        topic = catalog.topic(self.topic_key)
        if topic is None:
            return Availability.GONE
        if self.channel not in topic.channels:
            return Availability.UNAVAILABLE
        return Availability.CURRENT if catalog.version == self.catalog_version else Availability.CHANGED

    # --- steps ------------------------------------------------------------------------------------

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)

    @property
    def has_message(self) -> bool:
        return any(f.id == MESSAGE for f in self.fields)

    def _merged(self, field: Field) -> bool:
        """An attachments field beside a message field is asked within the message step."""
        return field.type == "attachments" and self.has_message

    def step(self, index: int) -> Step:
        field = self.fields[index]
        return Step(field, index, field.id == MESSAGE or (field.type == "attachments" and not self.has_message))

    def steps(self) -> list[Step]:
        """The questions to ask now, in order: visible, not merged into the message step."""
        visible = self.visible_ids()
        return [self.step(i) for i, f in enumerate(self.fields) if f.id in visible and not self._merged(f)]

    def next_step(self, after: int = -1) -> Step | None:
        """The first step after position `after` still to ask (visible, neither answered nor skipped); None at the end."""
        visible = self.visible_ids()
        for index in range(after + 1, len(self.fields)):
            field = self.fields[index]
            if field.id in visible and field.id not in self.done and not self._merged(field):
                return self.step(index)
        return None

    def clean_values(self) -> dict[str, object]:
        return {f.id: clean_value(f, self.values[f.id]) for f in self.fields if f.id in self.values}

    def visible_ids(self) -> set[str]:
        return visible_ids(self.fields, self.clean_values())

    def hidden_ids(self) -> set[str]:
        """Fields visible_when hides for the answers so far (the web renders them hidden)."""
        return {f.id for f in self.fields} - self.visible_ids()

    def dependents(self) -> dict[str, list[Field]]:
        """Controlling field id -> every field whose visibility it decides, directly or through another (form order)."""
        out: dict[str, list[Field]] = {}
        for field in self.fields:
            for controller in self.controllers(field.id):
                out.setdefault(controller, []).append(field)
        return out

    def controllers(self, field_id: str) -> list[str]:
        """The fields deciding whether `field_id` is visible: its visible_when field, that one's, ... (nearest first)."""
        chain: list[str] = []
        field = self.field(field_id)
        while field is not None and field.visible_when and field.visible_when[0] not in chain:
            chain.append(field.visible_when[0])
            field = self.field(field.visible_when[0])
        return chain

    def text_field(self, step: Step) -> Field | None:
        """The field that judges the text typed at a collecting step (None for a lone attachments step)."""
        return step.field if step.field.id == MESSAGE else None

    @property
    def file_limits(self) -> FileLimits:
        return FileLimits.of(self.files_field)

    # --- answers ----------------------------------------------------------------------------------

    def answer(self, field_id: str, raw: object) -> None:
        self.values[field_id] = raw
        self._mark_done(field_id)

    def skip(self, field_id: str) -> None:
        self.values.pop(field_id, None)
        self._mark_done(field_id)

    def mark_done(self, field_id: str) -> None:
        """Asked and finished without a value of its own (a collecting step that only took files)."""
        self._mark_done(field_id)

    def reopen(self, field_id: str) -> None:
        """Ask this field again: forget its answer."""
        self.values.pop(field_id, None)
        self.done = [d for d in self.done if d != field_id]

    def _mark_done(self, field_id: str) -> None:
        if field_id not in self.done:
            self.done.append(field_id)

    # --- plain data -------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """Plain JSON data; the fields' part is shared with earlier calls and the dict read back (do not change it)."""
        cached = self._fields_json
        if cached is None or cached[0] is not self.fields or cached[1] is not self.files_field:
            cached = self._fields_json = (self.fields, self.files_field, [field_to_dict(f) for f in self.fields],
                                          field_to_dict(self.files_field))
        return {"format": FORMAT, "topic": self.topic_key, "title": text_data(self.topic_title),
                "description": text_data(self.topic_description),
                "channel": self.channel, "version": self.catalog_version, "fields": cached[2],
                "files_field": cached[3], "values": dict(self.values), "done": list(self.done)}

    @classmethod
    def from_dict(cls, data: object, catalog: Catalog | None = None) -> "FormSession":
        """Read to_dict()'s output; raises FormSessionInvalid for anything else.

        A session stored before `channel` and `files_field` were recorded takes them as Telegram's and, with
        `catalog`, the running attachment policy.
        """
        try:
            if not isinstance(data, Mapping) or data.get("format", FORMAT) != FORMAT:
                raise ValueError("not a form session of this format")
            raw_fields, fields = _FIELDS_JSON.fields(data["fields"])
            if "files_field" in data:
                raw_files, files = _FIELDS_JSON.field(data["files_field"])
            else:
                files = next((f for f in fields if f.type == "attachments"), None) or _policy_of(catalog)
            values, done = data.get("values") or {}, data.get("done") or []
            if not isinstance(values, dict) or not isinstance(done, list):
                raise ValueError("values and done must be a mapping and a list")
            session = cls(str(data["topic"]), _text(data.get("title", "")), _text(data.get("description", "")),
                          str(data.get("channel", "telegram")), str(data.get("version", "")), fields, files,
                          dict(values), [str(d) for d in done])
            if "files_field" in data:
                session._fields_json = (fields, files, raw_fields, raw_files)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FormSessionInvalid(str(exc)) from None
        if not fields or len({f.id for f in fields}) != len(fields):
            raise FormSessionInvalid("a form session needs distinct fields")
        return session


def _substance(field: Field) -> Field:
    """A field without its wording: what decides which answers it takes."""
    return dataclasses.replace(field, label="", help=None, placeholder=None, pattern_message=None,
                               options=tuple(SelectOption(value=o.value, label="") for o in field.options))


def _policy_of(catalog: Catalog | None) -> Field:
    if catalog is None:
        raise ValueError("files_field missing and no catalog to take the policy from")
    return policy_files_field(catalog)


FIELD_KEYS = frozenset(f.name for f in dataclasses.fields(Field))


TEXT_ATTRS = ("label", "help", "placeholder", "pattern_message")  # a Field's texts, kept in every language


def _text(value) -> str:
    """A stored topic title or description: a text with its translations, or a plain string."""
    value = text_from_data(value)
    return value if isinstance(value, str) else str(value)


def field_to_dict(f: Field) -> dict:
    """A Field as JSON-ready data (options as [value, label] pairs); shared between calls (do not change it)."""
    return _FIELDS_JSON.as_dict(f)


def _field_dict(f: Field) -> dict:
    data = dataclasses.asdict(f)
    data.update({key: text_data(getattr(f, key)) for key in TEXT_ATTRS})
    data["options"] = [[o.value, text_data(o.label)] for o in f.options]
    data["visible_when"] = [f.visible_when[0], list(f.visible_when[1])] if f.visible_when else None
    data["allowed_types"] = list(f.allowed_types)
    return data


class _FieldsJson:
    """Fields to JSON and back, remembered (the last MEMO of each kind): a conversation stores and reads the same
    form at every step, and comparing the JSON costs a fraction of building the Fields again. Fields are frozen, so
    sessions share them; the JSON is shared too, never changed: reading returns the first JSON seen equal to the one
    read, so every step of a conversation writes the same list object (its text is made once: channels.telegram.state)."""

    MEMO = 1024

    def __init__(self):
        self._forms: dict[tuple, tuple[list, tuple[Field, ...]]] = {}
        self._fields: dict[tuple, tuple[Mapping, Field]] = {}
        self._dicts: dict[int, tuple[Field, dict]] = {}

    def fields(self, raw: list) -> tuple[list, tuple[Field, ...]]:
        key = tuple(f.get("id") if isinstance(f, Mapping) else None for f in raw)
        known = self._forms.get(key)
        if known is not None and known[0] == raw:
            return known
        fields = tuple(field_from_dict(f) for f in raw)
        self._remember(self._forms, key, (raw, fields))
        return raw, fields

    def field(self, raw: Mapping) -> tuple[Mapping, Field]:
        key = (raw.get("id"), raw.get("type"), raw.get("max_files"))
        known = self._fields.get(key)
        if known is not None and known[0] == raw:
            return known
        field = field_from_dict(raw)
        self._remember(self._fields, key, (raw, field))
        return raw, field

    def as_dict(self, field: Field) -> dict:
        """field_to_dict, remembered per Field object (a catalog's fields start every session of their form)."""
        known = self._dicts.get(id(field))
        if known is not None and known[0] is field:
            return known[1]
        data = _field_dict(field)
        self._remember(self._dicts, id(field), (field, data))
        return data

    def _remember(self, memo: dict, key: tuple, entry: tuple) -> None:
        if len(memo) >= self.MEMO:
            memo.pop(next(iter(memo)))
        memo[key] = entry


def field_from_dict(data: Mapping) -> Field:
    """The Field field_to_dict() wrote; unknown keys are ignored, missing ones take Field's defaults."""
    values = {k: v for k, v in data.items() if k in FIELD_KEYS}
    values.update({key: text_from_data(values[key]) for key in TEXT_ATTRS if key in values})
    values["options"] = tuple(SelectOption.model_construct(value=str(v), label=text_from_data(l)) for v, l in data.get("options") or [])
    vw = data.get("visible_when")
    values["visible_when"] = (str(vw[0]), tuple(vw[1])) if vw else None
    values["allowed_types"] = tuple(data.get("allowed_types") or [])
    field = Field(**values)
    if not isinstance(field.id, str) or field.type not in FIELD_TYPES:
        raise ValueError("a field needs a text id and a known type")
    return field


_FIELDS_JSON = _FieldsJson()
