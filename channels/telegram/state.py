"""A chat's conversation state: typed, versioned, kept as JSON in the database so a restarted bot resumes."""
from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Mapping

from peewee import Value

from engine.catalog import Catalog
from engine.errors import FormSessionInvalid
from engine.form_session import FormSession
from engine.store.models import BotConversation
from engine.store.prepared import PreparedSelect, PreparedWrite

log = logging.getLogger(__name__)

VERSION = 2  # the layout to_dict() writes; version 1 (no "v": the untyped dict of before) is still read
STEPS = ("category", "topic", "field")


class StateInvalid(ValueError):
    """Stored state that cannot be read back; the chat starts idle instead."""


@dataclass(frozen=True)
class StoredFile:
    """A file the user sent, remembered by its file_id (valid across restarts) and downloaded again at the end."""

    file_id: str
    name: str
    mime: str | None
    size: int

    def to_dict(self) -> dict:
        return {"file_id": self.file_id, "name": self.name, "mime": self.mime, "size": self.size}

    @classmethod
    def from_dict(cls, data: Mapping) -> "StoredFile":
        return cls(str(data["file_id"]), str(data["name"]), _opt_str(data.get("mime")), int(data.get("size") or 0))


@dataclass(kw_only=True)
class Collecting:
    """Text and files gathered at a «… then Завершить» step; `seq` makes older buttons stale."""

    seq: int = 0
    text: str = ""
    files: list[StoredFile] = field(default_factory=list)


@dataclass(kw_only=True)
class Creating(Collecting):
    """/createticket: choosing a category and topic, then the topic's form session step by step."""

    conv: str = field(default_factory=lambda: uuid.uuid4().hex)  # the ticket's idempotency key
    step: str = "category"  # category | topic | field
    page: int = 0
    category: str | None = None
    form: FormSession | None = None
    index: int = -1  # the form step being asked
    kept: dict = field(default_factory=dict)  # answers of a topic a reload took away, for the next topic chosen
    searched: str = ""  # the last phrase typed instead of choosing (search feedback when another topic is chosen)
    offered: list = field(default_factory=list)  # the topic keys that search offered


@dataclass(kw_only=True)
class Replying(Collecting):
    """«Добавить ответ» to ticket `ticket`."""

    ticket: int
    seq: int = 1


@dataclass
class ChatState:
    """What the chat is doing: nothing (idle), creating a ticket, or replying to one."""

    flow: Creating | Replying | None = None
    stored: dict = field(default_factory=dict, compare=False, repr=False)  # as loaded: an unchanged state is not written

    def __bool__(self) -> bool:
        return self.flow is not None

    def clear(self) -> None:
        self.flow = None

    @property
    def creating(self) -> Creating | None:
        return self.flow if isinstance(self.flow, Creating) else None

    @property
    def replying(self) -> Replying | None:
        return self.flow if isinstance(self.flow, Replying) else None

    def to_dict(self) -> dict:
        """Plain JSON; an idle chat is {}."""
        flow = self.flow
        if flow is None:
            return {}
        data = {"v": VERSION, "seq": flow.seq, "text": flow.text, "files": [f.to_dict() for f in flow.files]}
        if isinstance(flow, Replying):
            return {**data, "flow": "reply", "ticket": flow.ticket}
        data.update(flow="create", conv=flow.conv, step=flow.step, page=flow.page, index=flow.index)
        if flow.category is not None:
            data["category"] = flow.category
        if flow.form is not None:
            data["form"] = flow.form.to_dict()
        if flow.kept:
            data["kept"] = dict(flow.kept)
        if flow.searched:
            data["searched"], data["offered"] = flow.searched, list(flow.offered)
        return data

    @classmethod
    def from_dict(cls, data: object, catalog: Catalog | None = None) -> "ChatState":
        """Read to_dict()'s output or version 1; raises StateInvalid for anything else."""
        if not data:
            return cls()
        try:
            if not isinstance(data, Mapping) or data.get("v", 1) not in (1, VERSION):
                raise ValueError("unknown state layout")
            common = {"seq": int(data.get("seq", 0)), "text": str(data.get("text") or ""),
                      "files": [StoredFile.from_dict(f) for f in data.get("files") or []]}
            if data["flow"] == "reply":
                return cls(Replying(ticket=int(data["ticket"]), **common))
            if data["flow"] != "create" or data.get("step") not in STEPS:
                raise ValueError("unknown flow or step")
            form = _form_of(data, catalog)
            if data["step"] == "field" and (form is None or not 0 <= int(data.get("index", -1)) < len(form.fields)):
                raise ValueError("a field step without its form")
            return cls(Creating(conv=str(data["conv"]), step=data["step"], page=int(data.get("page") or 0),
                                category=_opt_str(data.get("category")), form=form, index=int(data.get("index", -1)),
                                kept=dict(data.get("kept") or {}), searched=str(data.get("searched") or ""),
                                offered=[str(k) for k in data.get("offered") or []], **common))
        except (KeyError, TypeError, ValueError, AttributeError, FormSessionInvalid) as exc:
            raise StateInvalid(str(exc)) from None


def _form_of(data: Mapping, catalog: Catalog | None) -> FormSession | None:
    if data.get("form") is not None:
        return FormSession.from_dict(data["form"], catalog)
    if data.get("snap"):  # version 1: the topic snapshot, with the answers beside it
        return FormSession.from_dict({**data["snap"], "values": data.get("values"), "done": data.get("done")}, catalog)
    return None


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


# --- storage ------------------------------------------------------------------------------------


def load(binding: str, chat_id: int, catalog: Catalog | None = None) -> ChatState:
    """The chat's state; a row that cannot be read back (corrupt, unknown layout) is logged and the chat starts idle."""
    row = _LOAD.first(binding, int(chat_id))
    if row is None:
        return ChatState()
    stored = row.state
    try:
        state = ChatState.from_dict(stored, catalog)
    except StateInvalid as exc:
        log.warning("telegram %s: state of chat %s unreadable (%s); starting idle", binding, chat_id, exc)
        return ChatState(stored={"unreadable": True})
    state.stored = stored
    return state


_LOAD = PreparedSelect(lambda binding, chat_id: BotConversation.select(BotConversation.state).where(
    (BotConversation.binding == binding) & (BotConversation.chat_id == chat_id)), arity=2)
_SAVE = PreparedWrite(lambda binding, chat_id, state, at: BotConversation.insert(
    binding=binding, chat_id=chat_id, state=Value(state, converter=False), updated_at=Value(at, converter=False),
).on_conflict(conflict_target=[BotConversation.binding, BotConversation.chat_id], update={
    BotConversation.state: Value(state, converter=False), BotConversation.updated_at: Value(at, converter=False)}),
    arity=4)


def save(binding: str, chat_id: int, state: ChatState) -> None:
    """Upsert the chat's state (idle is stored as {}) unless it is as it was loaded."""
    data = state.to_dict()
    if data == state.stored:
        return
    now = BotConversation.updated_at.db_value(datetime.now(timezone.utc))
    _SAVE.execute(binding, int(chat_id), state_json(data), now)


def state_json(data: dict) -> str:
    """The JSON of to_dict()'s output. A form's fields (~7 KB of the ~7.2 KB a step writes) are the same list object
    at every step of a conversation (engine.form_session shares it): their JSON is made once and spliced in."""
    form = data.get("form")
    if not form:
        return json.dumps(data, ensure_ascii=False)
    rest = {k: v for k, v in form.items() if k not in ("fields", "files_field")}
    form_json = _object(f'"fields": {_shared_json(form["fields"])}', f'"files_field": {_shared_json(form["files_field"])}',
                        json.dumps(rest, ensure_ascii=False)[1:-1])
    return _object(json.dumps({k: v for k, v in data.items() if k != "form"}, ensure_ascii=False)[1:-1],
                   f'"form": {form_json}')


def _object(*members: str) -> str:
    return "{" + ", ".join(m for m in members if m) + "}"


_SHARED_MEMO = 1024
_shared: dict[int, tuple[object, str]] = {}


def _shared_json(value: object) -> str:
    """json.dumps of a value never changed once made (remembered by identity, the last _SHARED_MEMO of them)."""
    known = _shared.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    text = json.dumps(value, ensure_ascii=False)
    if len(_shared) >= _SHARED_MEMO:
        _shared.pop(next(iter(_shared)), None)
    _shared[id(value)] = (value, text)
    return text
