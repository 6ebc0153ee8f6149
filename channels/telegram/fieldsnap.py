"""A topic's form fields as JSON, so a conversation keeps the form it started with across reloads and restarts."""
from __future__ import annotations

import dataclasses
import hashlib

from engine.catalog import Catalog
from engine.catalog.catalog import Field, Topic
from engine.catalog.schema import SelectOption


def dump_field(f: Field) -> dict:
    data = dataclasses.asdict(f)
    data["options"] = [[o.value, o.label] for o in f.options]
    data["visible_when"] = [f.visible_when[0], list(f.visible_when[1])] if f.visible_when else None
    data["allowed_types"] = list(f.allowed_types)
    return data


def load_field(data: dict) -> Field:
    values = dict(data)
    values["options"] = tuple(SelectOption(value=v, label=l) for v, l in data.get("options", []))
    values["visible_when"] = (data["visible_when"][0], tuple(data["visible_when"][1])) if data.get("visible_when") else None
    values["allowed_types"] = tuple(data.get("allowed_types", []))
    known = {f.name for f in dataclasses.fields(Field)}
    return Field(**{k: v for k, v in values.items() if k in known})


def snapshot(catalog: Catalog, topic: Topic) -> dict:
    """What the conversation needs of a topic: its key, titles and resolved fields, with the catalog version."""
    return {"topic": topic.key, "title": topic.title, "description": topic.description, "version": catalog.version,
            "fields": [dump_field(f) for f in catalog.form_for(topic).fields]}


def topic_code(topic_key: str) -> str:
    """A short ASCII stand-in for a topic key in callback data (resolved back against the current catalog)."""
    return hashlib.blake2s(topic_key.encode(), digest_size=5).hexdigest()


def topic_by_code(catalog: Catalog, code: str, channel: str = "telegram") -> Topic | None:
    return next((t for t in catalog.all_topics() if channel in t.channels and topic_code(t.key) == code), None)
