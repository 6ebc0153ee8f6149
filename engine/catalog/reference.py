"""docs/REFERENCE.md, generated from the code: the built-in UI texts, the ticket notifications and account emails the
engine sends."""
from __future__ import annotations

from engine.catalog.checks import ACCOUNT_NOTIFICATIONS, UI_SECTIONS
from engine.catalog.loader import builtin_ui_texts
from engine.catalog.ui_format import placeholders
from engine.ticket_notifications import BASE_PARAMS, TEAM_NOTIFICATIONS, TEAM_PARAMS, TICKET_NOTIFICATIONS

HEADER = """# Reference (generated)

Generated from the code by `python scripts/gen_reference.py`; do not edit by hand (a test fails when it is stale).
How to use these in a config: docs/CONFIG.md.
"""

SECTION_INTRO = {
    "web": "The portal. `app_name` is the service (company) name in the header and the window title, `app_title` the window title of pages without one of their own.",
    "telegram": "The bots' messages and buttons.",
    "email": "Email parts around each notification: `sender_name` is the From name, `footer` ends every email.",
    "validation": "Field error messages, on the web and in Telegram; `pattern` is replaced by a field's `pattern_message`.",
}


def reference_markdown() -> str:
    """The whole of docs/REFERENCE.md."""
    return "\n".join([HEADER, _ticket_notifications(), _staff_notifications(), _account_notifications(), _ui_texts()])


def _ticket_notifications() -> str:
    intro = ("Declare a type with one of these ids and `source: ticket` in `notifications/types.yaml` to have it sent; "
             "leave it out and nothing is sent. Its `params` may name any of the params listed (the engine passes those "
             "declared).\n\nEvery ticket notification passes:")
    return _types_table("Ticket notifications the engine raises", intro, BASE_PARAMS, TICKET_NOTIFICATIONS)


def _staff_notifications() -> str:
    intro = ("Declare a type with one of these ids and `source: staff` to have it sent to agents (each chooses its "
             "channels on the settings page) and to team addresses (config/teams.yaml `notify`); `ticket_url` links to "
             "the agent console. Besides the params of every ticket notification, each passes:")
    return _types_table("Staff notifications the engine raises", intro, TEAM_PARAMS, TEAM_NOTIFICATIONS)


def _types_table(title: str, intro: str, common: dict, raised: dict) -> str:
    lines = [f"## {title}", "", intro, "", "| param | type and meaning |", "| --- | --- |",
             *(f"| `{name}` | {_cell(meaning)} |" for name, meaning in common.items()),
             "", "| type | raised when | its own params |", "| --- | --- | --- |"]
    for type_id, (when, params) in raised.items():
        own = "<br>".join(f"`{name}`: {_cell(meaning)}" for name, meaning in params.items()) or "none"
        lines.append(f"| `{type_id}` | {_cell(when)} | {own} |")
    return "\n".join(lines) + "\n"


def _account_notifications() -> str:
    lines = [
        "## Account emails the engine sends",
        "",
        "Declare these with `source: account` and an `email` template (sign-up `open` or `domains` needs all three); they "
        "go to the account's own address, in its language, whatever its notification settings say.",
        "",
        "| type | sent when | params |",
        "| --- | --- | --- |",
    ]
    for type_id, (when, params) in ACCOUNT_NOTIFICATIONS.items():
        listed = "<br>".join(f"`{name}`: {_cell(meaning)}" for name, meaning in params.items())
        lines.append(f"| `{type_id}` | {_cell(when)} | {listed} |")
    return "\n".join(lines) + "\n"


def _ui_texts() -> str:
    _, texts = builtin_ui_texts()
    lines = [
        "## UI texts",
        "",
        "Every key of the built-in texts (`engine/catalog/ui_defaults/`), which `config/ui/<locale>.yaml` may override "
        "as `<section>: {<key>: text}`. An override may use only the placeholders listed for its key.",
    ]
    for section in UI_SECTIONS:
        lines += ["", f"### `{section}`", "", SECTION_INTRO[section], "", "| key | ru | en | placeholders |", "| --- | --- | --- | --- |"]
        for key, ru in texts["ru"][section].items():
            en = texts["en"][section][key]
            names = ", ".join(f"`{{{name}}}`" for name in sorted(placeholders(ru) | placeholders(en))) or ""
            lines.append(f"| `{key}` | {_cell(ru)} | {_cell(en)} | {names} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """A text inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", "<br>")
