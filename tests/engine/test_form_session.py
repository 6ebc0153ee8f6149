"""The form session every channel drives: steps in order, visibility chains, skips, file limits, plain data, reloads."""
from __future__ import annotations

import json

import pytest

from engine.catalog import load_catalog
from engine.catalog.catalog import Field, Form
from engine.catalog.schema import SelectOption
from engine.errors import FormSessionInvalid
from engine.form_session import Availability, FileLimits, FormSession, policy_files_field, reply_fields
from engine.forms import TEXT_CAP, validate_submission


def session_of(*fields: Field, values=None) -> FormSession:
    """A session over hand-made fields (no catalog needed to walk steps)."""
    files = next((f for f in fields if f.type == "attachments"), None) or Field(id="attachments", label="files", type="attachments")
    return FormSession("cat/topic", "Тема", "", "telegram", "v1", tuple(fields), files, dict(values or {}))


CHAIN = (
    Field(id="kind", label="Вид", type="select", options=(SelectOption(value="card"), SelectOption(value="other"))),
    Field(id="other", label="Другое?", type="boolean", visible_when=("kind", ("other",))),
    Field(id="detail", label="Подробнее", type="string", visible_when=("other", (True,))),
    Field(id="last", label="Итог", type="string", required=True, skippable=False),
)


def ids(steps) -> list[str]:
    return [s.id for s in steps]


def test_steps_follow_the_form_order_and_visible_when():
    session = session_of(*CHAIN)
    assert ids(session.steps()) == ["kind", "last"]
    session.answer("kind", "other")
    assert ids(session.steps()) == ["kind", "other", "last"]
    session.answer("other", "да")  # visible_when looks at the clean value: «да» is True
    assert ids(session.steps()) == ["kind", "other", "detail", "last"]


def test_a_field_behind_a_hidden_one_is_hidden_too():
    """A chain: «detail» depends on «other», which the first answer hides again; its stale value does not count."""
    session = session_of(*CHAIN, values={"kind": "other", "other": True})
    assert "detail" not in session.hidden_ids()
    session.answer("kind", "card")
    assert session.hidden_ids() == {"other", "detail"}
    assert session.controllers("detail") == ["other", "kind"]
    assert [f.id for f in session.dependents()["kind"]] == ["other", "detail"]


def test_the_engine_judges_a_submission_by_the_same_rule(catalog):
    """What the session hides, validate_submission drops: no error for a hidden required field, no stale value."""
    values = {"kind": "card", "other": "да", "detail": "старое", "last": "готово"}
    clean, errors = validate_submission(catalog, Form("chain", None, CHAIN), values, [], "ru")
    assert (clean, errors) == ({"kind": "card", "last": "готово"}, {})
    assert session_of(*CHAIN, values=values).hidden_ids() == {"other", "detail"}


def test_next_step_skips_answered_skipped_and_hidden_fields():
    session = session_of(*CHAIN)
    first = session.next_step()
    assert (first.id, first.index, first.skippable) == ("kind", 0, True)
    session.skip("kind")
    step = session.next_step(first.index)
    assert (step.id, step.skippable) == ("last", False)  # required: never skippable
    session.answer("last", "готово")
    assert session.next_step(step.index) is None
    session.reopen("last")
    assert session.next_step(0).id == "last" and "last" not in session.values


def test_the_message_step_collects_the_files(catalog):
    """Beside a message field the attachments are asked within the message step, under that field's limits."""
    topic = catalog.topic("billing/every-type")
    session = FormSession.start(catalog, topic, "telegram")
    steps = session.steps()
    assert "receipt" not in ids(steps) and "attachments" not in ids(steps)
    message = next(s for s in steps if s.id == "message")
    assert message.collects_files and session.text_field(message) is message.field
    assert session.file_limits == FileLimits(2, 1, ("application/pdf", ".png"))
    assert session.file_limits.max_bytes == 1024 * 1024
    assert message.text_limit == 20000


def test_a_lone_attachments_field_is_its_own_step():
    files = Field(id="scan", label="Скан", type="attachments", max_files=3)
    session = session_of(Field(id="account", label="ЛК"), files)
    step = session.step(1)
    assert step.collects_files and session.text_field(step) is None
    assert session.file_limits.max_files == 3


def test_text_limits_stay_within_the_hard_caps():
    assert session_of(Field(id="a", label="a", type="text")).step(0).text_limit == TEXT_CAP
    assert session_of(Field(id="a", label="a", max_length=5)).step(0).text_limit == 5
    assert session_of(Field(id="a", label="a", type="integer")).step(0).text_limit is None


def test_replies_and_forms_without_files_use_the_policy(catalog):
    body, files = reply_fields(catalog)
    assert (body.type, body.max_length) == ("text", TEXT_CAP)
    assert FileLimits.of(files) == FileLimits(5, 2, tuple(catalog.policies.attachments.allowed_types))
    assert policy_files_field(catalog) == files


def test_round_trip_through_json(catalog):
    session = FormSession.start(catalog, catalog.topic("billing/every-type"), "telegram")
    session.answer("title", "Оплата")
    session.answer("refund", True)
    session.skip("notes")
    back = FormSession.from_dict(json.loads(json.dumps(session.to_dict())))
    assert back == session
    assert back.catalog_version == catalog.version and back.next_step(-1).id == "amount"


@pytest.mark.parametrize("data", [
    None, [], "text", {}, {"format": 99, "topic": "a/b", "fields": []},
    {"topic": "a/b", "fields": []},
    {"topic": "a/b", "fields": [{"id": "x", "label": "X", "type": "nonsense"}]},
    {"topic": "a/b", "fields": [{"id": "x", "label": "X"}, {"id": "x", "label": "X"}]},
    {"topic": "a/b", "fields": [{"id": "x", "label": "X"}], "values": ["not", "a", "mapping"]},
    {"topic": "a/b", "fields": "x"},
])
def test_unreadable_data_is_refused(catalog, data):
    with pytest.raises(FormSessionInvalid):
        FormSession.from_dict(data, catalog)


def test_a_reload_is_noticed(catalog, config_dir):
    """The session keeps its fields; availability says what the reload did to its topic."""
    session = FormSession.start(catalog, catalog.topic("billing/every-type"), "telegram")
    assert session.availability(catalog) is Availability.CURRENT
    form = config_dir / "forms" / "every-type.yaml"
    form.write_text(form.read_text(encoding="utf-8").replace("label: Строка", "label: Новая подпись"), encoding="utf-8")
    changed = load_catalog(config_dir)
    assert session.availability(changed) is Availability.CHANGED
    assert session.field("title").label == "Строка"
    assert session.rebuilt(changed).field("title").label == "Новая подпись"

    category = config_dir / "categories" / "billing.yaml"
    category.write_text(category.read_text(encoding="utf-8") + "    channels: [web]\n", encoding="utf-8")
    assert session.availability(load_catalog(config_dir)) is Availability.UNAVAILABLE
    category.write_text(category.read_text(encoding="utf-8").replace("id: every-type", "id: renamed"), encoding="utf-8")
    assert session.availability(load_catalog(config_dir)) is Availability.GONE
    assert session.rebuilt(load_catalog(config_dir)) is None




def test_rebased_keeps_what_still_applies_and_names_what_changed(catalog, config_dir):
    """A reload removing one answered field and tightening another: the session moves onto the new form."""
    session = FormSession.start(catalog, catalog.topic("billing/every-type"), "telegram")
    session.answer("title", "abcd")
    session.answer("notes", "note")
    session.answer("amount", "500")
    form = config_dir / "forms" / "every-type.yaml"
    source = form.read_text(encoding="utf-8")
    source = source.replace("  - id: notes\n    label: Текст\n    type: text\n    max_length: 100\n", "")
    form.write_text(source.replace("    max: 1000\n", "    max: 100\n"), encoding="utf-8")
    rebase = session.rebased(load_catalog(config_dir))
    assert [f.id for f in rebase.removed] == ["notes"]
    assert [f.id for f in rebase.refused] == ["amount"] and rebase.changed == {"amount"}
    assert rebase.session.values == {"title": "abcd"} and rebase.session.done == ["title"]


def test_rebased_is_none_when_only_wording_changed(catalog, config_dir):
    session = FormSession.start(catalog, catalog.topic("billing/every-type"), "telegram")
    session.answer("title", "abcd")
    form = config_dir / "forms" / "every-type.yaml"
    form.write_text(form.read_text(encoding="utf-8").replace("label: Строка", "label: Новая подпись"), encoding="utf-8")
    assert session.rebased(load_catalog(config_dir)) is None
    assert session.field("title").label == "Строка"
