"""Route one user action to the right step: commands, buttons, text and files; telebot-free."""
from __future__ import annotations

from channels.telegram import create_flow, linking, tickets_flow
from channels.telegram.events import Ctx, Incoming

TICKET_COMMANDS = ("createticket", "tickets", "archive")


def handle(ctx: Ctx, state: dict, incoming: Incoming) -> None:
    """Apply `incoming` to the chat's `state` (mutated in place), queueing replies on ctx."""
    if incoming.kind == "command":
        return _command(ctx, state, incoming)
    if not ctx.serves_tickets:
        return ctx.alert(ctx.t("notify_help")) if incoming.kind == "button" else ctx.say(ctx.t("notify_help"))
    if ctx.user is None:
        return ctx.alert(ctx.t("not_linked")) if incoming.kind == "button" else ctx.say(ctx.t("not_linked"))
    if incoming.kind == "button":
        return _button(ctx, state, incoming.data)
    if not create_flow.check_topic(ctx, state):
        return None
    flow = state.get("flow")
    if incoming.kind == "text":
        if flow == "create":
            return create_flow.on_text(ctx, state, incoming.text)
        if flow == "reply":
            return tickets_flow.on_text(ctx, state, incoming.text)
        return ctx.say(ctx.t("help"))
    if incoming.kind == "file" and flow in ("create", "reply"):
        module = create_flow if flow == "create" else tickets_flow
        return module.on_file(ctx, state, incoming.file, incoming.text)
    ctx.say(ctx.t("unsupported_content") if flow else ctx.t("help"))


def _command(ctx: Ctx, state: dict, incoming: Incoming) -> None:
    command = incoming.command
    if command == "start":
        return linking.start(ctx, incoming.payload, ctx.serves_tickets)
    if not ctx.serves_tickets:
        return ctx.say(ctx.t("notify_help"))
    if command == "cancel":
        had = bool(state)
        state.clear()
        return ctx.say(ctx.t("cancelled" if had else "nothing_to_cancel"))
    if command in TICKET_COMMANDS and ctx.user is None:
        return ctx.say(ctx.t("not_linked"))
    if command == "createticket":
        return create_flow.start(ctx, state)
    if command in ("tickets", "archive"):
        return tickets_flow.list_tickets(ctx, active=command == "tickets")
    ctx.say(ctx.t("help"))


def _button(ctx: Ctx, state: dict, data: str) -> None:
    if data == "x":
        had = bool(state)
        state.clear()
        return ctx.say(ctx.t("cancelled" if had else "nothing_to_cancel"))
    if not create_flow.check_topic(ctx, state):
        return None
    order = (create_flow.on_button, tickets_flow.on_button)
    if state.get("flow") != "create":
        order = order[::-1]
    if not any(handler(ctx, state, data) for handler in order):
        ctx.alert(ctx.t("stale_button"))
