"""The chat state: typed, JSON round trip, the untyped layout of before still read, corrupt rows start idle."""
from __future__ import annotations

import json

import pytest

from channels.telegram import state as state_store
from channels.telegram.state import ChatState, Creating, Replying, StateInvalid, StoredFile
from engine.form_session import FormSession, field_to_dict
from engine.store.models import BotConversation


def creating(rt) -> ChatState:
    topic = rt.catalog.topic("chats/chat-problem")
    flow = Creating(step="field", category="chats", form=FormSession.start(rt.catalog, topic, "telegram"), index=1, seq=4,
                    text="Описание", files=[StoredFile("file-1", "scan.png", "image/png", 200)])
    flow.form.answer("account_id", "12345")
    return ChatState(flow)


def test_round_trip(rt):
    for state in (ChatState(), creating(rt), ChatState(Replying(ticket=1001, text="Спасибо")), ChatState(Creating())):
        assert ChatState.from_dict(json.loads(json.dumps(state.to_dict())), rt.catalog) == state


def test_saved_steps_read_back_as_saved(rt):
    """Each step is saved and read back as it was, though the form's fields are written from text made once."""
    state = creating(rt)
    for answer in ("12345", "67890"):
        state.creating.form.answer("account_id", answer)
        state_store.save("support_bot", 5, state)
        state = state_store.load("support_bot", 5, rt.catalog)
        assert state.creating.form.values["account_id"] == answer
        assert BotConversation.get(BotConversation.chat_id == 5).state == state.to_dict()
    state.clear()
    state_store.save("support_bot", 5, state)
    assert not state_store.load("support_bot", 5, rt.catalog)


def test_idle_is_stored_as_an_empty_mapping():
    assert ChatState().to_dict() == {}
    assert not ChatState.from_dict({})


def test_the_untyped_layout_of_before_is_read(rt):
    """A conversation saved by the previous version (no "v", a topic snapshot beside the answers) goes on."""
    topic = rt.catalog.topic("chats/chat-problem")
    fields = rt.catalog.form_for(topic).fields
    old = {"flow": "create", "step": "field", "conv": "c0ffee", "seq": 3, "page": 0, "category": "chats", "index": 1,
           "snap": {"topic": topic.key, "title": topic.title, "description": topic.description, "version": "old",
                    "fields": [field_to_dict(f) for f in fields]},
           "values": {"account_id": "12345"}, "done": ["account_id"], "text": "", "files": []}
    flow = ChatState.from_dict(old, rt.catalog).creating
    assert (flow.conv, flow.seq, flow.index, flow.form.topic_key) == ("c0ffee", 3, 1, topic.key)
    assert flow.form.values == {"account_id": "12345"} and flow.form.done == ["account_id"]
    assert flow.form.files_field.max_files == rt.catalog.policies.attachments.max_files
    reply = ChatState.from_dict({"flow": "reply", "ticket": 1001, "seq": 1, "text": "", "files": []}).replying
    assert reply == Replying(ticket=1001)


@pytest.mark.parametrize("data", [
    "text", [1, 2], {"flow": "dance"}, {"v": 99, "flow": "reply", "ticket": 1}, {"flow": "reply"},
    {"flow": "reply", "ticket": "abc"}, {"flow": "create", "step": "field", "conv": "c"},
    {"flow": "create", "step": "nowhere", "conv": "c"}, {"flow": "reply", "ticket": 1, "files": [{"name": "x"}]},
    {"flow": "create", "step": "field", "conv": "c", "form": {"topic": "a/b", "fields": "x"}},
])
def test_unreadable_state_is_refused(rt, data):
    with pytest.raises(StateInvalid):
        ChatState.from_dict(data, rt.catalog)


def test_a_corrupt_row_starts_the_chat_idle(rt, caplog):
    BotConversation.create(binding="support_bot", chat_id=77, state={"flow": "create", "step": "field", "conv": "c"})
    assert state_store.load("support_bot", 77, rt.catalog) == ChatState()
    assert "unreadable" in caplog.text
    saved = creating(rt)
    state_store.save("support_bot", 77, saved)
    assert state_store.load("support_bot", 77, rt.catalog) == saved
