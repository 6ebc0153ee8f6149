"""The outbox state machine: claim a Delivery with a lease, send it through its channel, record the outcome."""
from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from redis.exceptions import RedisError

from engine import counters
from engine.catalog.durations import parse_duration
from engine.channel_protocol import Channel
from engine.channel_registry import registry
from engine.channel_setup import binding_setting
from engine.errors import (
    ChannelNotConfigured, DeliveryPostponed, NotFound, PermanentDeliveryError, TemporaryDeliveryError,
)
from engine.enqueue import enqueue_delivery_rows
from engine.logsafe import redact
from engine.ratelimit import RateLimiter
from engine.senders import Outgoing, sender_for
from engine.pagination import PAGE_SIZE, Keyset, Page, paginate
from engine.local_time import for_viewer, viewer_zone
from engine.render import with_ticket_url
from engine.store.models import Delivery, Notification, Ticket, User

log = logging.getLogger(__name__)
REDIS_WAIT = 5.0  # seconds to wait when the rate-limit buckets are unreachable
UNDELIVERED = ("failed", "skipped")  # final statuses staff see and may retry
OUTCOMES = {"not_configured": "skipped"}  # process()'s result -> the outcome label counted (the row's status)
# Beyond the channel's send timeout: the rate-limit check, rendering and the commit of the outcome.
LEASE_MARGIN = timedelta(seconds=10)


def claimable(now: datetime):
    """Rows a worker may take: pending, or sending under a lease that expired (its worker died); and due."""
    leased_out = (Delivery.status == "sending") & (Delivery.claimed_until < now)
    return ((Delivery.status == "pending") | leased_out) & (Delivery.next_attempt_at <= now)


def _owned(row: Delivery, attempt: int):
    """The row as this worker claimed it: a worker whose lease was taken over cannot overwrite the new owner."""
    return (Delivery.id == row.id) & (Delivery.status == "sending") & (Delivery.attempts == attempt)


def process(rt, delivery_id: int, now: datetime | None = None) -> str:
    """Deliver one outbox row; returns sent, failed, retry, postponed, not_configured (the row is `skipped`)
    or skipped (not due, gone, or owned by another)."""
    now = now or rt.clock()
    policies = rt.catalog.policies
    kind = Delivery.select(Delivery.channel).where(Delivery.id == delivery_id).scalar()
    if kind is None:
        return "skipped"
    lease = delivery_lease(policies, registry.get(kind))
    # One conditional UPDATE claims the row and returns it: of two workers running the same job, one gets it.
    claimed = list(
        Delivery.update(status="sending", attempts=Delivery.attempts + 1, claimed_until=now + lease)
        .where((Delivery.id == delivery_id) & claimable(now))
        .returning(Delivery)
        .execute()
    )
    if not claimed:
        return "skipped"
    row = claimed[0]
    attempt = row.attempts
    if attempt > policies.delivery.max_attempts:
        # Claimed again after a lease ran out: the worker died (or was stopped) during the last allowed attempt.
        Delivery.update(attempts=attempt - 1).where(_owned(row, attempt)).execute()
        reason = row.last_error or "the worker stopped while sending"
        return _counted(rt, row, _fail(rt, row, attempt - 1, f"gave up after {attempt - 1} attempts: {reason}"))
    try:
        return _counted(rt, row, _attempt(rt, row, attempt, now, lease))
    except Exception as exc:  # whatever broke, the row is retried (and counted), never left in `sending`
        log.exception("delivery %s: unexpected error", row.id)
        return _counted(rt, row, _retry(rt, row, attempt, f"{type(exc).__name__}: {exc}", None))


def delivery_lease(policies, channel) -> timedelta:
    """How long a worker owns a row of `channel` it claimed: `policies.delivery.lease` when set, else the
    channel's send timeout plus LEASE_MARGIN (a send that outlasts its lease could be sent twice)."""
    if policies.delivery.lease:
        return parse_duration(policies.delivery.lease)
    timeout = channel.send_timeout if channel is not None else Channel.send_timeout
    return timedelta(seconds=timeout) + LEASE_MARGIN


def short_leases(policies) -> list[str]:
    """Warnings for an explicit lease shorter than an installed channel's send timeout plus LEASE_MARGIN."""
    if not policies.delivery.lease:
        return []
    lease = parse_duration(policies.delivery.lease)
    return [f"policies.delivery.lease ({policies.delivery.lease}) is shorter than the {channel.kind} channel's "
            f"send timeout plus {LEASE_MARGIN.seconds} s: a slow send may be taken over and sent twice"
            for channel in registry.all() if lease < timedelta(seconds=channel.send_timeout) + LEASE_MARGIN]


def _counted(rt, row: Delivery, outcome: str) -> str:
    """Count a claimed attempt's outcome for /metrics (`helpdesk_delivery_attempts_total`)."""
    if outcome != "skipped":  # the lease ran out before sending: nothing happened to the row
        counters.count(rt.redis, "delivery_attempts", channel=row.channel, outcome=OUTCOMES.get(outcome, outcome))
    return outcome


def _attempt(rt, row: Delivery, attempt: int, now: datetime, lease: timedelta) -> str:
    """One claimed attempt: rate limit, build the message, send it; each outcome recorded on the row."""
    channel = registry.get(row.channel)
    buckets = channel.rate_buckets(rt.catalog.policies, row.target) if channel is not None else []
    if buckets:
        try:
            wait = RateLimiter(rt.redis).take(buckets)
        except RedisError:
            wait = REDIS_WAIT  # no shared budget to check: hand the row back rather than risk a burst
        if wait > 0:
            return _postpone(rt, row, attempt, wait)
    try:
        outgoing = build_outgoing(rt.catalog, row, rt.settings.public_url)
    except PermanentDeliveryError as exc:  # our side (config, account, link) is wrong: the chat did nothing
        return _fail(rt, row, attempt, str(exc))
    try:
        binding_setting(rt.settings.env, outgoing.binding_id, outgoing.binding)  # ChannelNotConfigured if unset
        sender = sender_for(row.channel)
        if sender is None:
            raise TemporaryDeliveryError(f"no sender registered for channel {row.channel!r} in this worker")
        if rt.clock() >= now + lease:
            return "skipped"  # the lease ran out before sending: another worker may own the row by now
        sender(rt, outgoing)
    except ChannelNotConfigured as exc:
        return _skip(row, attempt, str(exc))
    except DeliveryPostponed as exc:
        return _postpone(rt, row, attempt, exc.retry_after)
    except PermanentDeliveryError as exc:
        return _fail(rt, row, attempt, str(exc), refused=True)
    except TemporaryDeliveryError as exc:
        return _retry(rt, row, attempt, str(exc), exc.retry_after)
    Delivery.update(status="sent", sent_at=rt.clock(), claimed_until=None, last_error=None).where(_owned(row, attempt)).execute()
    return "sent"


def build_outgoing(catalog, row: Delivery, public_url: str) -> Outgoing:
    """Resolve the row's binding and address and render its message (a ticket's with `ticket_url` under
    `public_url`); PermanentDeliveryError if it cannot be."""
    notification = Notification.select(Notification, User).join(User).where(Notification.id == row.notification_id).get()
    user = notification.user
    if not user.is_active:
        raise PermanentDeliveryError("the account is deactivated")
    if notification.type_id not in catalog.notification_types:
        raise PermanentDeliveryError(f"notification type {notification.type_id!r} is no longer configured")
    channel = registry.get(row.channel)
    if channel is None:
        raise PermanentDeliveryError(f"no {row.channel} binding is configured")
    binding_id, binding, address = channel.resolve(catalog, row.target)
    number = Ticket.get_by_id(notification.ticket_id).number if notification.ticket_id else None
    locale = user.locale or catalog.policies.default_locale
    params = for_viewer(with_ticket_url(notification.params, public_url, number), viewer_zone(user, catalog.policies), locale)
    try:
        message = channel.render(catalog, notification.type_id, params, locale)
    except Exception as exc:  # the template fails on these params (sandbox refusal, 1/0, bad filter input): never retried
        raise PermanentDeliveryError(f"the {row.channel} template of {notification.type_id!r} cannot be rendered: "
                                     f"{type(exc).__name__}: {exc}") from exc
    return Outgoing(
        delivery_id=row.id, notification_id=notification.id, channel=row.channel, binding_id=binding_id, binding=binding, address=address,
        subject=message.subject, text=message.text, html=message.html, locale=user.locale,
        name=user.name if address == user.email else "",
    )


def _postpone(rt, row: Delivery, attempt: int, wait: float) -> str:
    """No rate-limit token: hand the row back for when one will be free, without counting the attempt."""
    moved = Delivery.update(
        status="pending", attempts=attempt - 1, claimed_until=None, next_attempt_at=rt.clock() + timedelta(seconds=wait)
    ).where(_owned(row, attempt)).execute()
    if moved:
        enqueue_delivery_rows(rt, [Delivery.get_by_id(row.id)])
    return "postponed"


def _retry(rt, row: Delivery, attempt: int, error: str, retry_after: float | None) -> str:
    """Schedule the next attempt with backoff (or the channel's retry_after), or fail for good after max_attempts."""
    policy = rt.catalog.policies.delivery
    if retry_after is not None:
        # The channel asked us to slow down (Telegram 429): wait exactly as told, without spending an attempt.
        delay, attempts = math.ceil(retry_after), attempt - 1
    elif attempt >= policy.max_attempts:
        return _fail(rt, row, attempt, f"gave up after {attempt} attempts: {error}")
    else:
        delay, attempts = policy.retry_backoff[min(attempt, len(policy.retry_backoff)) - 1], attempt
    updated = Delivery.update(
        status="pending", attempts=attempts, claimed_until=None, last_error=redact(error)[:2000],
        next_attempt_at=rt.clock() + timedelta(seconds=delay),
    ).where(_owned(row, attempt)).execute()
    if updated:
        enqueue_delivery_rows(rt, [Delivery.get_by_id(row.id)])
    log.info("delivery %s: attempt %s failed, retry in %ss: %s", row.id, attempt, delay, error)
    return "retry"


def _skip(row: Delivery, attempt: int, reason: str) -> str:
    """The channel is not configured: a final `skipped` (reported once at process start, not per row)."""
    Delivery.update(status="skipped", claimed_until=None, last_error=reason[:2000]).where(_owned(row, attempt)).execute()
    log.debug("delivery %s skipped: %s", row.id, reason)
    return "not_configured"


def _fail(rt, row: Delivery, attempt: int, error: str, refused: bool = False) -> str:
    """Record a final failure (visible to staff); when the address `refused`, its channel reacts (e.g. unlinks it)."""
    fallback = None
    with rt.db.atomic():
        updated = Delivery.update(status="failed", claimed_until=None, last_error=redact(error)[:2000]).where(
            _owned(row, attempt)
        ).execute()
        channel = registry.get(row.channel)
        if updated and refused and channel is not None:
            fallback = channel.refused(rt, row, error)
    log.warning("delivery %s failed for good: %s", row.id, error)
    if fallback is not None:
        enqueue_delivery_rows(rt, [fallback])
    return "failed"


NEWEST_FIRST = Keyset((Delivery.id,), descending=True)  # index delivery (status, id), one range per status


def failed_delivery_page(after: str | None = None, before: str | None = None, size: int = PAGE_SIZE) -> Page:
    """Final failures and skipped rows, newest first, with their notification and user joined (the admin page)."""
    query = Delivery.select(Delivery, Notification, User).join(Notification).join(User)
    query = query.where(Delivery.status.in_(UNDELIVERED))
    return paginate(query, NEWEST_FIRST, after, before, size,
                    groups=[[Delivery.status == s for s in UNDELIVERED]],
                    counted=Delivery.select().where(Delivery.status.in_(UNDELIVERED)))


def failed_deliveries(limit: int = PAGE_SIZE) -> list[Delivery]:
    """The newest `limit` failed and skipped deliveries (see failed_delivery_page)."""
    return failed_delivery_page(size=limit).rows


def retry_delivery(rt, delivery_id: int) -> None:
    """Staff action: give a failed or skipped delivery a fresh set of attempts now."""
    updated = Delivery.update(status="pending", attempts=0, claimed_until=None, next_attempt_at=rt.clock()).where(
        (Delivery.id == delivery_id) & Delivery.status.in_(UNDELIVERED)
    ).execute()
    if not updated:
        raise NotFound(f"no failed or skipped delivery {delivery_id}")
    enqueue_delivery_rows(rt, [Delivery.get_by_id(delivery_id)])
