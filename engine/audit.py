"""The audit log of account changes: who (a staff account, or the shell user of a CLI command), when, what."""
from __future__ import annotations

from engine.store.models import AuditLog, User

Actor = User | str  # a signed-in staff member, or `engine.config_versions.this_user("cli")` for a command


def about(user: User):
    """The audit rows about `user`: this module and engine.customer_data keep its id as `"user_id": <id>` in the
    sorted JSON detail (a text match, exact thanks to the closing `,` or `}`)."""
    text = AuditLog.detail.cast("text")  # a plain text match: the JSON field would encode the pattern as JSON
    return AuditLog.select().where(text.contains(f'"user_id": {user.id},') | text.contains(f'"user_id": {user.id}}}'))


def forget_email(user: User) -> int:
    """Drop the address from the rows about `user` (an erased customer keeps no address in the log); how many."""
    rows = [row for row in about(user) if row.detail.get("user_id") == user.id and "email" in row.detail]
    for row in rows:
        AuditLog.update(detail={k: v for k, v in row.detail.items() if k != "email"}).where(AuditLog.id == row.id).execute()
    return len(rows)


def record(actor: Actor, action: str, user: User | None = None, **detail) -> AuditLog:
    """One AuditLog row; `user` is the account acted on (its id and email are kept, so the row outlives a rename)."""
    if user is not None:
        detail = {"user_id": user.id, "email": user.email, **detail}
    if isinstance(actor, User):
        return AuditLog.create(actor=actor, action=action, detail=detail)
    return AuditLog.create(actor=None, action=action, detail={"by": str(actor), **detail})


def actor_name(actor: Actor) -> str:
    """How an actor is named in emails and messages."""
    return (actor.name or actor.email) if isinstance(actor, User) else str(actor)
