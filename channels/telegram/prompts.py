"""How the bot asks each field type: one prompt per type of engine.forms.FIELD_TYPES (a test checks none is missing)."""
from __future__ import annotations

from typing import Callable

from engine.catalog.catalog import Field

from channels.telegram.callbacks import Choose, Finish, encode
from channels.telegram.events import Ctx
from channels.telegram.keyboards import Rows

Prompt = Callable[[Ctx, Field, int], tuple[str, Rows]]


def typed(hint_key: str | None = None) -> Prompt:
    """A typed answer: the label, then the config's placeholder or a format hint from the UI texts."""
    def prompt(ctx: Ctx, field: Field, seq: int) -> tuple[str, Rows]:
        hint = ctx.local(field.placeholder) or (ctx.t(hint_key) if hint_key else "")
        return ctx.local(field.label) + (f"\n{hint}" if hint else ""), []
    return prompt


def select(ctx: Ctx, field: Field, seq: int) -> tuple[str, Rows]:
    """One button per option; the callback carries the option's index, never its (possibly Cyrillic) text."""
    rows = [[(ctx.local(o.label or o.value), encode(Choose(seq, str(i))))] for i, o in enumerate(field.options)]
    return f"{ctx.local(field.label)}\n{ctx.t('choose_option')}", rows


def boolean(ctx: Ctx, field: Field, seq: int) -> tuple[str, Rows]:
    return ctx.local(field.label), [[(ctx.t("answer_yes"), encode(Choose(seq, "y"))), (ctx.t("answer_no"), encode(Choose(seq, "n")))]]


def files(ctx: Ctx, field: Field, seq: int, max_files: int | None = None) -> tuple[str, Rows]:
    """The collecting step (the message with its files, or a lone attachments field): text and files, then Завершить."""
    text = ctx.t("ask_message", label=ctx.local(field.label), max_files=max_files or field.max_files)
    return text, [[(ctx.t("finish"), encode(Finish(seq)))]]


PROMPTS: dict[str, Prompt] = {
    "string": typed(),
    "text": typed(),
    "integer": typed("hint_integer"),
    "select": select,
    "boolean": boolean,
    "email": typed("hint_email"),
    "phone": typed("hint_phone"),
    "date": typed("hint_date"),
    "attachments": files,
}
