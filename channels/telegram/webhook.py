"""Webhook mode: the per-binding secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token, and setWebhook."""
from __future__ import annotations

import hashlib
import hmac

from engine.settings import Settings

from channels.telegram.client import BotConfigError


def webhook_secret(secret_key: str, binding_id: str) -> str:
    """A secret only this deployment can derive (SECRET_KEY + binding); Telegram allows [A-Za-z0-9_-]{1,256}."""
    return hmac.new(secret_key.encode(), f"telegram-webhook:{binding_id}".encode(), hashlib.sha256).hexdigest()


def secret_matches(secret_key: str, binding_id: str, presented: str | None) -> bool:
    """Constant-time check of the header; an empty key never matches (no guessable default)."""
    if not secret_key or not presented:
        return False
    return hmac.compare_digest(webhook_secret(secret_key, binding_id).encode(), presented.encode())


def deployment_secret(settings: Settings) -> str:
    """SECRET_KEY, or the key the web app persisted under HELPDESK_DATA (the same file, so both sides agree)."""
    path = settings.data_dir / "secret_key"
    key = settings.secret_key or (path.read_text().strip() if path.exists() else "")
    if not key:
        raise BotConfigError("set SECRET_KEY (or start the web app once) before registering webhooks")
    return key


def webhook_url(settings: Settings, binding_id: str) -> str:
    return f"{settings.public_url}/telegram/{binding_id}/webhook"


def set_webhooks(rt, apps) -> list[str]:
    """Register each bot's webhook (with its secret); returns one line per bot for the operator."""
    lines = []
    for app in apps:
        app.check()
        app.set_commands()
        url = webhook_url(rt.settings, app.primary)
        app.bot.set_webhook(url=url, secret_token=webhook_secret(deployment_secret(rt.settings), app.primary),
                            allowed_updates=["message", "callback_query"])
        lines.append(f"{app.names}: webhook {url}")
    return lines
