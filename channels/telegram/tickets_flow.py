"""/tickets and /archive, opening a ticket, "Добавить ответ" (text + files -> Завершить) and "Добавить в архив"."""
from __future__ import annotations

from engine import tickets
from engine.errors import NotFound, StorageUnavailable, TransitionRefused, ValidationFailed
from engine.form_session import reply_fields
from engine.local_time import format_time, viewer_zone
from engine.ticket_states import ARCHIVED

from channels.telegram import collect
from channels.telegram.callbacks import (
    AskArchive, Button, Cancel, ConfirmArchive, Finish, KeepTicket, ReplyTo, ViewTicket, encode,
)
from channels.telegram.events import Ctx
from channels.telegram.keyboards import Rows, ticket_rows
from channels.telegram.state import ChatState, Replying

CHANNEL = "telegram"
LAST_MESSAGES = 5
BUTTON_SUBJECT = 40  # characters of the subject shown on a ticket button
MAX_LISTED = 30  # newest first; older ones stay reachable in the web portal


def status_text(ctx: Ctx, status: str) -> str:
    return ctx.t(f"status_{status}")


def topic_title(ctx: Ctx, ticket) -> str:
    """The ticket's topic in the person's language while the catalog has it, else as the ticket recorded it."""
    topic = ctx.catalog.topic(f"{ticket.category_id}/{ticket.topic_id}")
    return ctx.local(topic.title) if topic else ticket.snapshot.get("topic_title", "")


def list_tickets(ctx: Ctx, active: bool) -> None:
    found = tickets.customer_tickets(ctx.user, active=active, limit=MAX_LISTED)
    if not found:
        return ctx.say(ctx.t("no_active_tickets" if active else "no_archived_tickets"))
    rows: Rows = []
    lines = [ctx.t("active_tickets" if active else "archived_tickets")]
    for ticket in found:
        status = status_text(ctx, ticket.status)
        lines.append(ctx.t("ticket_line", number=ticket.number, topic=topic_title(ctx, ticket),
                           subject=ticket.subject, status=status))
        subject = ticket.subject if len(ticket.subject) <= BUTTON_SUBJECT else ticket.subject[:BUTTON_SUBJECT - 1] + "…"
        rows.append([(ctx.t("ticket_button", number=ticket.number, subject=subject, status=status), encode(ViewTicket(ticket.number)))])
    ctx.say("\n".join(lines), rows)


def show_ticket(ctx: Ctx, number: int) -> None:
    ticket = tickets.customer_ticket(ctx.user, number)
    lines = [ctx.t("ticket_header", number=ticket.number, subject=ticket.subject,
                   topic=topic_title(ctx, ticket), status=status_text(ctx, ticket.status))]
    messages, more = tickets.latest_messages(ticket, size=LAST_MESSAGES)
    zone = viewer_zone(ctx.user, ctx.catalog.policies)
    if more:
        lines.append(ctx.t("more_messages", count=LAST_MESSAGES))
    for message in messages:
        entry = ctx.t("message_entry", author=ctx.t(f"author_{message.author_kind}"),
                      when=format_time(message.created_at, zone, ctx.locale), body=message.body)
        names = [a.original_name for a in message.attachments]
        lines.append(entry + ("\n" + ctx.t("files_entry", names=", ".join(names)) if names else ""))
    buttons = None if ticket.status == ARCHIVED else ticket_rows(ctx.catalog, ctx.locale, ticket.number)
    ctx.say("\n\n".join(lines), buttons)


def start_reply(ctx: Ctx, state: ChatState, number: int) -> None:
    ticket = tickets.customer_ticket(ctx.user, number)
    if ticket.status == ARCHIVED:
        return ctx.say(ctx.catalog.text(ctx.locale, "validation", "ticket_archived"))
    state.flow = Replying(ticket=ticket.number)
    ctx.say(ctx.t("ask_reply", number=ticket.number), _reply_rows(ctx, state.flow))


def _reply_rows(ctx: Ctx, flow: Replying) -> Rows:
    return [[(ctx.t("finish"), encode(Finish(flow.seq)))], [(ctx.t("cancel"), encode(Cancel()))]]


def on_text(ctx: Ctx, state: ChatState, text: str) -> None:
    body_field, _ = reply_fields(ctx.catalog)
    error = collect.add_text(ctx, state.replying, text, body_field)
    ctx.say(error or ctx.t("text_added"), _reply_rows(ctx, state.replying))


def on_file(ctx: Ctx, state: ChatState, ref, caption: str) -> None:
    flow = state.replying
    body_field, files_field = reply_fields(ctx.catalog)
    if caption:
        collect.add_text(ctx, flow, caption, body_field)
    refusal = collect.add_file(ctx, flow, ref, files_field)
    ctx.file_reply(ref, refusal, len(flow.files), files_field.max_files, _reply_rows(ctx, flow))


def finish_reply(ctx: Ctx, state: ChatState) -> None:
    flow = state.replying
    if not flow.text and not flow.files:
        return ctx.say(ctx.t("finish_first"), _reply_rows(ctx, flow))
    ticket = tickets.customer_ticket(ctx.user, flow.ticket)
    try:
        tickets.add_reply(ctx.rt, ticket, ctx.user, flow.text, collect.uploads(ctx, flow), CHANNEL)
    except ValidationFailed as failed:
        return ctx.say("\n".join(failed.errors.values()), _reply_rows(ctx, flow))
    except StorageUnavailable:  # nothing was added; the text and files (by file_id) stay for another Finish
        return ctx.say(ctx.t("storage_unavailable"), _reply_rows(ctx, flow))
    except TransitionRefused as refused:
        state.clear()
        return ctx.say(str(refused))
    state.clear()
    ctx.toast(ctx.t("reply_added", number=flow.ticket))
    ctx.say(ctx.t("reply_added", number=flow.ticket))


def ask_archive(ctx: Ctx, number: int) -> None:
    ticket = tickets.customer_ticket(ctx.user, number)
    if ticket.status == ARCHIVED:
        return ctx.say(ctx.t("archived", number=ticket.number))
    rows = [[(ctx.t("archive_confirm_yes"), encode(ConfirmArchive(ticket.number))),
             (ctx.t("archive_confirm_no"), encode(KeepTicket(ticket.number)))]]
    ctx.say(ctx.t("confirm_archive", number=ticket.number), rows)


def archive(ctx: Ctx, state: ChatState, number: int) -> None:
    ticket = tickets.customer_ticket(ctx.user, number)
    if ticket.status != ARCHIVED:
        tickets.archive_ticket(ctx.rt, ticket, ctx.user, "customer")
    if state.replying is not None and state.replying.ticket == ticket.number:
        state.clear()
    ctx.say(ctx.t("archived", number=ticket.number), edit=True)


def on_button(ctx: Ctx, state: ChatState, button: Button) -> bool:
    """Ticket buttons and the reply's «Завершить»; False for a stale or foreign one."""
    replying = state.replying
    try:
        if isinstance(button, (ViewTicket, KeepTicket)):
            show_ticket(ctx, button.number)
        elif isinstance(button, ReplyTo):
            start_reply(ctx, state, button.number)
        elif isinstance(button, AskArchive):
            ask_archive(ctx, button.number)
        elif isinstance(button, ConfirmArchive):
            archive(ctx, state, button.number)
        elif isinstance(button, Finish) and replying is not None and button.seq == replying.seq:
            finish_reply(ctx, state)
        else:
            return False
    except NotFound:
        ctx.say(ctx.t("ticket_not_found"))
    return True
