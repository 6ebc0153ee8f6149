"""Where inherited fields go: the parent's first, unless a field says `position` or `after`."""
from __future__ import annotations

from engine.catalog import load_catalog

BASE = "id: base\nfields:\n  - id: subject\n  - id: message\n    type: text\n"


def _order(mini, form_id: str) -> list[str]:
    return [f.id for f in load_catalog("config").forms[form_id].fields]


def test_parent_fields_come_first_by_default(mini):
    mini.write("forms/base.yaml", BASE + "  - id: contract\n")
    mini.write("forms/child.yaml", "id: child\nextends: base\nfields:\n  - id: speed\n  - id: router\n")
    assert _order(mini, "child") == ["subject", "message", "contract", "speed", "router"]


def test_position_last_is_inherited_by_grandchildren(mini):
    mini.write("forms/base.yaml", "id: base\nfields:\n  - {id: subject, position: last}\n  - {id: message, position: last}\n")
    mini.write("forms/contract.yaml", "id: contract\nextends: base\nfields:\n  - id: contract\n")
    mini.write("forms/speed.yaml", "id: speed\nextends: contract\nfields:\n  - id: speed_test\n  - {id: router, after: contract}\n")
    assert _order(mini, "contract") == ["contract", "subject", "message"]
    assert _order(mini, "speed") == ["contract", "router", "speed_test", "subject", "message"]


def test_position_first_goes_before_the_parents_fields(mini):
    mini.write("forms/base.yaml", BASE)
    mini.write("forms/child.yaml", "id: child\nextends: base\nfields:\n  - id: extra\n  - {id: urgent, type: boolean, position: first}\n")
    assert _order(mini, "child") == ["urgent", "subject", "message", "extra"]


def test_after_on_an_override_moves_the_inherited_field(mini):
    mini.write("forms/base.yaml", BASE + "  - id: contract\n")
    mini.write("forms/child.yaml", "id: child\nextends: base\nfields:\n  - id: speed\n  - {id: contract, after: speed, required: true}\n")
    fields = load_catalog("config").forms["child"].fields
    assert [f.id for f in fields] == ["subject", "message", "speed", "contract"]
    assert fields[-1].required


def test_shipped_default_form_keeps_its_fields_last(mini):
    """The fixture's default form marks subject, message, attachments `position: last`, like the shipped ones."""
    assert _order(mini, "chat-problem") == ["account_id", "channel", "subject", "message", "attachments"]
