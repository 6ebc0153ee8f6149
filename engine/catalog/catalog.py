"""The immutable Catalog snapshot every channel reads: resolved categories, topics, forms, types."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Mapping

from engine.catalog.replies import CannedReply
from engine.catalog.sla import SlaPolicy
from engine.catalog.schema import ChannelBinding, Policies, Priority, SelectOption
from engine.catalog.ui_format import SAFE_FORMATTER

RESERVED_FIELDS = ("subject", "message", "attachments")


@dataclass(frozen=True)
class Field:
    """A form field with library defaults and form overrides merged."""

    id: str
    label: str
    type: str = "string"
    help: str | None = None
    placeholder: str | None = None
    required: bool = False
    pattern: str | None = None
    pattern_message: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    min: int | None = None
    max: int | None = None
    options: tuple[SelectOption, ...] = ()
    skippable: bool = True
    visible_when: tuple[str, tuple] | None = None  # (field id, allowed values)
    max_files: int = 5
    max_file_size_mb: float = 10
    allowed_types: tuple[str, ...] = ()

    def is_visible(self, values: Mapping[str, object]) -> bool:
        """True when this field applies given the other submitted values (same rule on web and Telegram)."""
        if self.visible_when is None:
            return True
        other, allowed = self.visible_when
        value = values.get(other)
        return value in allowed or (str(value) if value is not None else None) in {str(a) for a in allowed}


@dataclass(frozen=True)
class Form:
    id: str
    title: str | None
    fields: tuple[Field, ...]

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)


@dataclass(frozen=True)
class Topic:
    category_id: str
    id: str
    title: str
    description: str
    priority: Priority
    form_id: str
    keywords: tuple[str, ...]
    channels: tuple[str, ...]

    @property
    def key(self) -> str:
        """Globally unique reference 'category/topic' (topic ids are unique within their category)."""
        return f"{self.category_id}/{self.id}"


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    description: str
    order: int
    icon: str | None
    keywords: tuple[str, ...]
    channels: tuple[str, ...]
    topics: tuple[Topic, ...]

    def topics_for(self, channel: str) -> tuple[Topic, ...]:
        return tuple(t for t in self.topics if channel in t.channels)


@dataclass(frozen=True)
class Catalog:
    """One validated, versioned configuration. Never mutated: reload builds a new one."""

    version: str  # content hash of all files
    loaded_at: datetime
    config_dir: str
    files: tuple[str, ...]
    categories: tuple[Category, ...]  # sorted by order, then title
    forms: Mapping[str, Form]
    notification_types: Mapping[str, object]  # id -> NotificationTypeSpec (schema.config_models)
    channels: Mapping[str, ChannelBinding]
    policies: Policies
    ui: Mapping[str, Mapping[str, Mapping[str, str]]]  # locale -> section -> key -> text
    replies: Mapping[str, CannedReply] = field(default_factory=lambda: MappingProxyType({}))  # id -> reply, by title
    sla: SlaPolicy | None = None  # config/sla.yaml; None: no SLA
    _topics: Mapping[str, Topic] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    warnings: tuple = ()  # lint findings (engine.catalog.lint.ConfigWarning): shown, never blocking

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def categories_for(self, channel: str) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if channel in c.channels and c.topics_for(channel))

    def topic(self, key: str) -> Topic | None:
        """Look a topic up by 'category/topic'."""
        return self._topics.get(key)

    def all_topics(self) -> tuple[Topic, ...]:
        return tuple(self._topics.values())

    def replies_for(self, category_id: str, topic_id: str) -> tuple[CannedReply, ...]:
        """The canned replies offered on a ticket of this topic, by title."""
        return tuple(r for r in self.replies.values() if r.applies_to(category_id, topic_id))

    def form_for(self, topic: Topic) -> Form:
        return self.forms[topic.form_id]

    def text(self, locale: str, section: str, key: str, **params) -> str:
        """A UI text in `locale` (falling back to the default locale), its `{name}` placeholders filled from params."""
        for loc in (locale, self.policies.default_locale, "ru"):
            texts = self.ui.get(loc, {}).get(section, {})
            if key in texts:
                return SAFE_FORMATTER.vformat(texts[key], (), params) if params else texts[key]
        raise KeyError(f"UI text {section}.{key} is not defined")

    def bindings(self, kind: str | None = None, serves: str | None = None) -> dict[str, ChannelBinding]:
        """Channel bindings filtered by kind (an installed channel's kind) and role (notifications/tickets)."""
        return {
            name: b for name, b in self.channels.items()
            if (kind is None or b.kind == kind) and (serves is None or serves in b.serves)
        }
