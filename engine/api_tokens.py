"""Events API tokens: random secrets shown once; only their SHA-256 is stored."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timezone

from engine.errors import CredentialRevoked, NotFound, Unauthenticated
from engine.store.models import ApiToken

PREFIX = "hd_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(name: str) -> tuple[ApiToken, str]:
    """Issue a token named `name`; returns the row and the secret (the only time it is visible)."""
    secret = PREFIX + secrets.token_urlsafe(32)
    return ApiToken.create(name=name.strip()[:100] or "token", token_hash=_digest(secret)), secret


def revoke_token(name_or_id: str) -> int:
    """Revoke the active tokens with this name (or id); NotFound when none matches."""
    match = ApiToken.name == name_or_id
    if str(name_or_id).isdigit():
        match |= ApiToken.id == int(name_or_id)
    revoked = ApiToken.update(revoked_at=datetime.now(timezone.utc)).where(match & ApiToken.revoked_at.is_null()).execute()
    if not revoked:
        raise NotFound(f"no active API token {name_or_id!r}")
    return revoked


def list_tokens() -> list[ApiToken]:
    return list(ApiToken.select().order_by(ApiToken.id))


def verify_token(secret: str | None) -> ApiToken:
    """The token row for a presented secret; Unauthenticated if unknown, CredentialRevoked if revoked."""
    if not secret:
        raise Unauthenticated("missing API token")
    digest = _digest(secret)
    token = ApiToken.get_or_none(ApiToken.token_hash == digest)
    # The lookup is by hash, so timing reveals nothing about the secret; compare again in constant time anyway.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise Unauthenticated("unknown API token")
    if token.revoked_at is not None:
        raise CredentialRevoked("revoked API token")
    return token
