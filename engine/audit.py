"""The audit log of account changes: who (a staff account, or the shell user of a CLI command), when, what."""
from __future__ import annotations

from engine.store.models import AuditLog, User

Actor = User | str  # a signed-in staff member, or `engine.config_versions.this_user("cli")` for a command


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
