"""Named exceptions raised by the core and translated into HTTP codes, flashes or bot replies at the edges."""
from __future__ import annotations


class HelpdeskError(Exception):
    """Base of every error the engine raises on purpose."""


class NotFound(HelpdeskError):
    """The object does not exist or belongs to someone else (edges answer 404, never 403)."""


class BlobNotFound(NotFound):
    """The attachment store holds no content under this key."""


class StorageUnavailable(HelpdeskError):
    """The attachment store cannot be reached or refuses to work (down, read-only, wrong credentials): nothing was
    stored; the edges say so and keep what the customer typed, a background job retries."""


class ValidationFailed(HelpdeskError):
    """Submitted values are wrong; `errors` maps field id -> message in the customer's language."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class TransitionRefused(HelpdeskError):
    """The ticket's state does not allow this action (e.g. replying to an archived ticket)."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.code = code


class PermissionDenied(HelpdeskError):
    """The actor's role does not allow this action."""


class LinkTokenInvalid(HelpdeskError):
    """A Telegram link token is unknown, expired, used, or presented from a group chat."""


class RateLimited(HelpdeskError):
    """Too many attempts; `retry_after` seconds until the next one is allowed."""

    def __init__(self, retry_after: float):
        super().__init__(f"rate limited, retry after {retry_after:.0f}s")
        self.retry_after = retry_after


class PermanentDeliveryError(HelpdeskError):
    """A channel refused a delivery for good (Telegram 403/400 chat not found, SMTP 5xx)."""


class TemporaryDeliveryError(HelpdeskError):
    """A channel failed in a way worth retrying; `retry_after` if the channel said when."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryPostponed(TemporaryDeliveryError):
    """Not this message's turn yet (its address's earlier messages or the channel's pacing come first): try again in
    `retry_after` seconds; nothing was sent and no attempt is spent."""

    def __init__(self, retry_after: float):
        super().__init__(f"postponed {retry_after:.1f}s by pacing", retry_after=retry_after)


class ChannelNotConfigured(HelpdeskError):
    """A channel binding's environment variable (token_env, smtp_url_env) is unset: its deliveries are skipped."""


class InvalidValue(HelpdeskError):
    """One submitted value is wrong: `key` names the text in the catalog's validation section, `params` fill it."""

    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key = key
        self.params = params


class Conflict(HelpdeskError):
    """The object already exists (e.g. an account with this email); the validation text `email_taken` explains it."""


class Unauthenticated(HelpdeskError):
    """No credentials, or credentials nobody issued (edges answer 401)."""


class CredentialRevoked(HelpdeskError):
    """Credentials that were valid once and have been revoked (edges answer 403)."""


class FormSessionInvalid(HelpdeskError):
    """Stored form-session data that cannot be read back (corrupt, or written in an unknown format)."""
