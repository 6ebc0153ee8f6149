"""The Telegram channel's delivery side: linked chats as targets, checking a target still works, sending in order
per chat (long texts in parts, not repeated on a retry), refusals."""
from __future__ import annotations

import time
from datetime import timedelta

from channels.telegram import pace
from channels.telegram.channel import MAX_TEXT
from channels.telegram.sender import MAX_WAIT, bot_of, notification_buttons, send_text
from engine import accounts
from engine.errors import DeliveryPostponed, PermanentDeliveryError
from engine.store.models import Delivery, Notification, TelegramLink, User
from engine.text_split import split_text

TURN_POLL = 0.1  # seconds between looks at whether the chat's older deliveries went out
HEAD_GRACE = timedelta(seconds=60)  # an older delivery due within this long goes first
PROGRESS_TTL = 7 * 24 * 3600  # how long the parts sent of an unfinished long delivery are remembered


def split_target(target: str) -> tuple[str, str]:
    """A telegram target 'binding:chat_id' -> (binding, chat_id)."""
    binding_id, _, chat_id = target.rpartition(":")
    return binding_id, chat_id


def targets(kind: str, catalog, user, type_id: str, about_ticket: bool) -> list[str]:
    """Targets 'binding:chat_id' of the user's active links whose bot delivers `type_id`, one per Telegram user.

    A person who talks to both bots gets each notification once: ticket news through the bot serving tickets
    (where the ticket's buttons work), anything else through the notification bot.
    """
    bots = catalog.bindings(kind=kind)
    chosen: dict[int, tuple[int, str]] = {}
    for link in TelegramLink.select().where((TelegramLink.user == user) & TelegramLink.active).order_by(TelegramLink.id):
        binding = bots.get(link.binding)
        if binding is None:
            continue
        if binding.notifications is not None:
            wanted = type_id in binding.notifications
        else:
            wanted = "notifications" in binding.serves
        if not wanted:
            continue
        rank = 0 if ("tickets" if about_ticket else "notifications") in binding.serves else 1
        if link.tg_user_id not in chosen or rank < chosen[link.tg_user_id][0]:
            chosen[link.tg_user_id] = (rank, f"{link.binding}:{link.chat_id}")
    return [target for _, target in chosen.values()]


def resolve(kind: str, catalog, target: str):
    """(binding id, binding, chat id) while the bot is configured and the chat linked; PermanentDeliveryError else."""
    binding_id, address = split_target(target)
    binding = catalog.channels.get(binding_id)
    if binding is None or binding.kind != kind:
        raise PermanentDeliveryError(f"telegram binding {binding_id!r} is no longer configured")
    if is_team_chat(kind, catalog, address):
        return binding_id, binding, address
    link = TelegramLink.get_or_none((TelegramLink.binding == binding_id) & (TelegramLink.chat_id == int(address)))
    if link is None or not link.active:
        raise PermanentDeliveryError("the Telegram chat is no longer linked")
    return binding_id, binding, address


def is_team_chat(kind: str, catalog, chat_id: str) -> bool:
    """A team's chat in config/teams.yaml: delivered to without a link while the config names it."""
    return any(team.notify.get(kind) == chat_id for team in catalog.teams.values())


def refused(rt, row: Delivery, error: str) -> Delivery | None:
    """The chat blocked the bot (403) or is gone: unlink it, and email the notification if it had no email."""
    binding_id, chat_id = split_target(row.target)
    accounts.unlink(binding_id, int(chat_id), error)
    notification = Notification.get_by_id(row.notification_id)
    user = User.get_by_id(notification.user_id)
    if user.is_team_account:  # a team's chat refused: the team has no other address to fall back to
        return None
    has_email = Delivery.select().where(
        (Delivery.notification == notification) & (Delivery.channel == "email")
    ).exists()
    if has_email or not user.email or not rt.catalog.bindings(kind="email"):
        return None
    return Delivery.create(notification=notification, channel="email", target=user.email)



def older_unsent(rt, delivery: Delivery) -> list[Delivery]:
    """Older deliveries to the same chat still to go out soon: in line before this one (FIFO per chat). One waiting
    out a long backoff after failures does not hold the others back."""
    soon = rt.clock() + HEAD_GRACE
    return list(Delivery.select(Delivery.status, Delivery.next_attempt_at).where(
        (Delivery.channel == delivery.channel) & (Delivery.target == delivery.target) & (Delivery.id < delivery.id)
        & Delivery.status.in_(("pending", "sending")) & (Delivery.next_attempt_at <= soon)
    ))


def wait_turn(rt, delivery: Delivery, token: str, chat_id: int, max_wait: float) -> None:
    """Return once no older delivery to the chat is still to go. While one is being sent or is due now (another
    worker has it), wait for it up to `max_wait`; otherwise, or after that, DeliveryPostponed for its place in line."""
    deadline = time.monotonic() + max_wait
    while ahead := older_unsent(rt, delivery):
        now = rt.clock()
        if time.monotonic() >= deadline or all(d.status == "pending" and d.next_attempt_at > now for d in ahead):
            interval = pace.route(rt.catalog.policies.telegram_rate, token, chat_id).serial.interval
            first = min(d.next_attempt_at for d in ahead)
            raise DeliveryPostponed(max(len(ahead) * interval, (first - now).total_seconds() + interval))
        time.sleep(TURN_POLL)


def send_outgoing(rt, outgoing) -> None:
    """The telegram channel's sender: an engine.senders.Outgoing (address = chat id) through its bot binding, after
    the chat's older deliveries; the parts of a long message already sent by an earlier try are not sent again."""
    delivery = Delivery.get_or_none(Delivery.id == outgoing.delivery_id)
    chat_id = int(outgoing.address)
    bot = bot_of(rt, outgoing.binding_id)
    max_wait = MAX_WAIT
    if delivery is not None:
        # Waiting must end well inside the worker's lease, or another worker could claim the row and send it too.
        if delivery.claimed_until is not None:
            max_wait = max(0.0, min(MAX_WAIT, (delivery.claimed_until - rt.clock()).total_seconds() / 4))
        wait_turn(rt, delivery, bot.token, chat_id, max_wait)
    buttons = notification_buttons(rt, outgoing.binding_id, delivery.notification) if delivery else None
    if len(split_text(outgoing.text, MAX_TEXT)) == 1:
        send_text(rt, bot, chat_id, outgoing.text, buttons, max_wait=max_wait)
        return
    progress = f"tg:parts-sent:{outgoing.delivery_id}"  # a retry after a failed part sends only the rest
    first = int(rt.redis.get(progress) or 0)
    send_text(rt, bot, chat_id, outgoing.text, buttons, first=first, max_wait=max_wait,
              sent=lambda n: rt.redis.set(progress, n, ex=PROGRESS_TTL))
    rt.redis.delete(progress)


send = send_outgoing
