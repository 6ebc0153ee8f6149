"""Route one user action to the right step: commands, buttons, text and files; telebot-free."""
from __future__ import annotations

from channels.telegram import callbacks, create_flow, first_contact, language, linking, tickets_flow
from channels.telegram.events import Ctx, Incoming
from channels.telegram.state import ChatState

TICKET_COMMANDS = ("createticket", "tickets", "archive")


def handle(ctx: Ctx, state: ChatState, incoming: Incoming) -> None:
    """Apply `incoming` to the chat's `state` (changed in place), queueing replies on ctx."""
    if incoming.kind == "command":
        return _command(ctx, state, incoming)
    if not ctx.serves_tickets:
        return ctx.alert(ctx.t("notify_help")) if incoming.kind == "button" else ctx.say(ctx.t("notify_help"))
    if ctx.user is None and not first_contact.adopt(ctx):
        return ctx.alert(ctx.t("not_linked")) if incoming.kind == "button" else ctx.say(ctx.t("not_linked"))
    if incoming.kind == "button":
        return _button(ctx, state, incoming.data)
    if not create_flow.follow_reload(ctx, state):
        return None
    flow = create_flow if state.creating else tickets_flow if state.replying else None
    if incoming.kind == "text":
        return flow.on_text(ctx, state, incoming.text) if flow else ctx.say(ctx.t("help"))
    if incoming.kind == "file" and flow:
        return flow.on_file(ctx, state, incoming.file, incoming.text)
    ctx.say(ctx.t("unsupported_content") if flow else ctx.t("help"))


def _cancel(ctx: Ctx, state: ChatState) -> None:
    had = bool(state)
    state.clear()
    ctx.say(ctx.t("cancelled" if had else "nothing_to_cancel"))


def _command(ctx: Ctx, state: ChatState, incoming: Incoming) -> None:
    command = incoming.command
    if command == "start":
        return linking.start(ctx, incoming.payload, ctx.serves_tickets)
    if not ctx.serves_tickets:
        return ctx.say(ctx.t("notify_help"))
    if command == "cancel":
        return _cancel(ctx, state)
    if command == "language":
        return language.choose(ctx)
    if command == first_contact.COMMAND:
        return first_contact.send_code(ctx)
    if command in TICKET_COMMANDS and ctx.user is None and not first_contact.adopt(ctx):
        return ctx.say(ctx.t("not_linked"))
    if command == "createticket":
        return create_flow.start(ctx, state)
    if command in ("tickets", "archive"):
        return tickets_flow.list_tickets(ctx, active=command == "tickets")
    ctx.say(ctx.t("help"))


def _button(ctx: Ctx, state: ChatState, data: str) -> None:
    """Decode the button; a malformed, forged or stale one gets the polite «stale button» answer."""
    button = callbacks.decode(data)
    if isinstance(button, callbacks.Cancel):
        return _cancel(ctx, state)
    if isinstance(button, callbacks.Language):
        return language.chosen(ctx, button)
    if isinstance(button, callbacks.ClaimCode):
        return first_contact.send_code(ctx)
    if not create_flow.follow_reload(ctx, state):
        return None
    handled = button is not None and (create_flow.on_button(ctx, state, button) or tickets_flow.on_button(ctx, state, button))
    if not handled:
        ctx.alert(ctx.t("stale_button"))
