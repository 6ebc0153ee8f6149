"""/tickets and /archive, opening a ticket, "Добавить ответ" (text + files -> Завершить) and "Добавить в архив"."""
from __future__ import annotations

from engine import tickets
from engine.catalog.catalog import Field
from engine.forms import TEXT_CAP
from engine.errors import NotFound, TransitionRefused, ValidationFailed
from engine.ticket_states import ARCHIVED

from channels.telegram import collect
from channels.telegram.events import Ctx
from channels.telegram.keyboards import Rows, ticket_rows

CHANNEL = "telegram"
LAST_MESSAGES = 5
BUTTON_SUBJECT = 40  # characters of the subject shown on a ticket button
MAX_LISTED = 30  # newest first; older ones stay reachable in the web portal


def status_text(ctx: Ctx, status: str) -> str:
    return ctx.t(f"status_{status}")


def list_tickets(ctx: Ctx, active: bool) -> None:
    found = tickets.customer_tickets(ctx.user, active=active)
    if not found:
        return ctx.say(ctx.t("no_active_tickets" if active else "no_archived_tickets"))
    rows: Rows = []
    lines = [ctx.t("active_tickets" if active else "archived_tickets")]
    for ticket in found[:MAX_LISTED]:
        status = status_text(ctx, ticket.status)
        lines.append(ctx.t("ticket_line", number=ticket.number, topic=ticket.snapshot.get("topic_title", ""),
                           subject=ticket.subject, status=status))
        subject = ticket.subject if len(ticket.subject) <= BUTTON_SUBJECT else ticket.subject[:BUTTON_SUBJECT - 1] + "…"
        rows.append([(ctx.t("ticket_button", number=ticket.number, subject=subject, status=status), f"v:{ticket.number}")])
    ctx.say("\n".join(lines), rows)


def show_ticket(ctx: Ctx, number: str) -> None:
    ticket = tickets.customer_ticket(ctx.user, number)
    lines = [ctx.t("ticket_header", number=ticket.number, subject=ticket.subject,
                   topic=ticket.snapshot.get("topic_title", ""), status=status_text(ctx, ticket.status))]
    messages = tickets.ticket_messages(ticket)
    if len(messages) > LAST_MESSAGES:
        lines.append(ctx.t("more_messages", count=LAST_MESSAGES))
    for message in messages[-LAST_MESSAGES:]:
        entry = ctx.t("message_entry", author=ctx.t(f"author_{message.author_kind}"),
                      when=message.created_at.strftime("%d.%m.%Y %H:%M"), body=message.body)
        names = [a.original_name for a in message.attachments]
        lines.append(entry + ("\n" + ctx.t("files_entry", names=", ".join(names)) if names else ""))
    buttons = None if ticket.status == ARCHIVED else ticket_rows(ctx.catalog, ctx.locale, ticket.number)
    ctx.say("\n\n".join(lines), buttons)


def start_reply(ctx: Ctx, state: dict, number: str) -> None:
    ticket = tickets.customer_ticket(ctx.user, number)
    if ticket.status == ARCHIVED:
        return ctx.say(ctx.catalog.text(ctx.locale, "validation", "ticket_archived"))
    state.clear()
    state.update(flow="reply", ticket=ticket.number, seq=1, text="", files=[])
    ctx.say(ctx.t("ask_reply", number=ticket.number), _reply_rows(ctx, state))


def _reply_rows(ctx: Ctx, state: dict) -> Rows:
    return [[(ctx.t("finish"), f"f:{state['seq']}")], [(ctx.t("cancel"), "x")]]


def on_text(ctx: Ctx, state: dict, text: str) -> None:
    body_field, _ = _reply_fields(ctx)
    error = collect.add_text(ctx, state, text, body_field)
    ctx.say(error or ctx.t("text_added"), _reply_rows(ctx, state))


def on_file(ctx: Ctx, state: dict, ref, caption: str) -> None:
    body_field, files_field = _reply_fields(ctx)
    if caption:
        collect.add_text(ctx, state, caption, body_field)
    refusal = collect.add_file(ctx, state, ref, files_field)
    text = refusal or ctx.t("file_added", name=ref.name, count=len(state["files"]), max_files=files_field.max_files)
    ctx.say(text, _reply_rows(ctx, state))


def _reply_fields(ctx: Ctx) -> tuple[Field, Field]:
    """The same limits the engine applies to a reply: a text body and the policy's files."""
    return Field(id="message", label="message", type="text", max_length=TEXT_CAP), collect.policy_files_field(ctx.catalog)


def finish_reply(ctx: Ctx, state: dict) -> None:
    if not state.get("text") and not state.get("files"):
        return ctx.say(ctx.t("finish_first"), _reply_rows(ctx, state))
    ticket = tickets.customer_ticket(ctx.user, state["ticket"])
    try:
        tickets.add_reply(ctx.rt, ticket, ctx.user, state.get("text", ""), collect.uploads(ctx, state), CHANNEL)
    except ValidationFailed as failed:
        return ctx.say("\n".join(failed.errors.values()), _reply_rows(ctx, state))
    except TransitionRefused as refused:
        state.clear()
        return ctx.say(str(refused))
    number = state["ticket"]
    state.clear()
    ctx.toast(ctx.t("reply_added", number=number))
    ctx.say(ctx.t("reply_added", number=number))


def ask_archive(ctx: Ctx, number: str) -> None:
    ticket = tickets.customer_ticket(ctx.user, number)
    if ticket.status == ARCHIVED:
        return ctx.say(ctx.t("archived", number=ticket.number))
    rows = [[(ctx.t("archive_confirm_yes"), f"ay:{ticket.number}"), (ctx.t("archive_confirm_no"), f"an:{ticket.number}")]]
    ctx.say(ctx.t("confirm_archive", number=ticket.number), rows)


def archive(ctx: Ctx, state: dict, number: str) -> None:
    ticket = tickets.customer_ticket(ctx.user, number)
    if ticket.status != ARCHIVED:
        tickets.archive_ticket(ctx.rt, ticket, ctx.user, "customer")
    if state.get("flow") == "reply" and state.get("ticket") == ticket.number:
        state.clear()
    ctx.say(ctx.t("archived", number=ticket.number), edit=True)


def on_button(ctx: Ctx, state: dict, data: str) -> bool:
    """Ticket buttons (v/r/a/ay/an and the reply's Завершить); False for a stale or foreign one."""
    kind, _, arg = data.partition(":")
    try:
        if kind == "v":
            show_ticket(ctx, arg)
        elif kind == "r":
            start_reply(ctx, state, arg)
        elif kind == "a":
            ask_archive(ctx, arg)
        elif kind == "ay":
            archive(ctx, state, arg)
        elif kind == "an":
            show_ticket(ctx, arg)
        elif kind == "f" and state.get("flow") == "reply" and arg == str(state.get("seq")):
            finish_reply(ctx, state)
        else:
            return False
    except NotFound:
        ctx.say(ctx.t("ticket_not_found"))
    return True
