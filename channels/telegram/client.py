"""TeleBot clients per binding: token lookup and the Bot API server root, chosen per token.

telebot builds every URL with `apihelper.API_URL.format(token, method)` and
`apihelper.FILE_URL.format(token, file_path)`. Those are module globals, so instead of a fixed
string we install objects whose `format` looks the server root up by token: each bot (and each
test's fake server) gets its own root without bots overwriting each other.
"""
from __future__ import annotations

import threading

import telebot
from telebot import apihelper

from engine.catalog.schema import ChannelBinding
from engine.channel_setup import env_value
from engine.logsafe import add_secret
from engine.settings import Settings

from channels.telegram import transport

DEFAULT_ROOT = "https://api.telegram.org"
_roots: dict[str, str] = {}
_roots_lock = threading.Lock()


class BotConfigError(Exception):
    """A bot binding cannot start: its token is missing or Telegram refused it."""


class _PerTokenURL:
    """A stand-in for telebot's URL format string that picks the server root by token."""

    def __init__(self, pattern: str):
        self.pattern = pattern

    def format(self, token: str, tail: str) -> str:
        return self.pattern.format(root=_roots.get(token, DEFAULT_ROOT), token=token, tail=tail)


def _install_url_hooks() -> None:
    transport.install()
    if not isinstance(apihelper.API_URL, _PerTokenURL):
        apihelper.API_URL = _PerTokenURL("{root}/bot{token}/{tail}")
        apihelper.FILE_URL = _PerTokenURL("{root}/file/bot{token}/{tail}")


def token_for(settings: Settings, binding_id: str, binding: ChannelBinding) -> str:
    """The binding's token from settings.env (falling back to the process environment); BotConfigError if unset."""
    if not binding.token_env:
        raise BotConfigError(f"telegram binding '{binding_id}' has no token_env")
    token = env_value(settings.env, binding.token_env)
    if not token:
        raise BotConfigError(f"telegram binding '{binding_id}': environment variable {binding.token_env} is not set")
    if ":" not in token or not token.split(":", 1)[0].isdigit():
        raise BotConfigError(f"telegram binding '{binding_id}': {binding.token_env} does not look like a bot token")
    add_secret(token)
    return token


def make_bot(settings: Settings, token: str, threaded: bool = False) -> telebot.TeleBot:
    """A TeleBot talking to settings.telegram_api_url; handlers run in the calling thread unless threaded."""
    _install_url_hooks()
    with _roots_lock:
        _roots[token] = (settings.telegram_api_url or DEFAULT_ROOT).rstrip("/")
    return telebot.TeleBot(token, threaded=threaded, parse_mode=None)


def bot_for_binding(settings: Settings, binding_id: str, binding: ChannelBinding) -> telebot.TeleBot:
    return make_bot(settings, token_for(settings, binding_id, binding))
