"""docs/REFERENCE.md is generated from the code and current; its table of ticket notifications is what the engine raises."""
from __future__ import annotations

import ast
from pathlib import Path

from engine.catalog.reference import reference_markdown
from engine import sla
from engine.settings import PROJECT_ROOT
from engine.ticket_notifications import TICKET_NOTIFICATIONS


def test_reference_is_current():
    committed = (PROJECT_ROOT / "docs" / "REFERENCE.md").read_text(encoding="utf-8")
    assert committed == reference_markdown(), "stale docs/REFERENCE.md: run `python scripts/gen_reference.py`"


def test_every_ui_text_and_ticket_notification_is_listed():
    text = reference_markdown()
    assert "| `app_name` | Служба поддержки | Support desk |  |" in text
    assert "| `ticket_created` | " in text and "`auto_close_at`: string" in text
    assert "| `too_short` | Слишком коротко: минимум {min} символов. | Too short: at least {min} characters. | `{min}` |" in text


def test_the_table_lists_the_types_the_engine_raises():
    """Every `_notify(..., "<type>", ...)` call in engine/tickets.py (and engine/sla.py's types) names a listed type,
    and every listed type is raised."""
    tree = ast.parse((PROJECT_ROOT / "engine" / "tickets.py").read_text(encoding="utf-8"))
    raised = {
        node.args[2].value for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_notify" and isinstance(node.args[2], ast.Constant)
    }
    assert raised | set(sla.NOTIFICATION.values()) == set(TICKET_NOTIFICATIONS)


def test_the_account_emails_listed_are_those_the_engine_sends():
    """Every `account_email(rt, user, <type>, {params})` call in engine/signup.py and engine/invitations.py names a
    listed type with its params."""
    from engine import invitations, signup
    from engine.catalog.checks import ACCOUNT_NOTIFICATIONS

    sent = set()
    for module in (signup, invitations):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            func = getattr(node, "func", None)
            if isinstance(node, ast.Call) and (getattr(func, "id", None) or getattr(func, "attr", None)) == "account_email":
                kind = node.args[2]
                type_id = kind.value if isinstance(kind, ast.Constant) else getattr(module, kind.id)
                sent.add((type_id, tuple(k.value for k in node.args[3].keys)))
    assert sent == {(type_id, tuple(params)) for type_id, (_, params) in ACCOUNT_NOTIFICATIONS.items()}
    assert "| `password_reset` | someone asked to reset the password of an active account | `link`: " in reference_markdown()
