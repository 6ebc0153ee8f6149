"""POST /telegram/<binding>/webhook: Telegram's updates for one bot, checked by the secret header, handled once."""
from __future__ import annotations

import threading

from flask import Blueprint, abort, current_app, jsonify, request
from telebot import types

from channels.telegram.botapp import BotApp
from channels.telegram.client import BotConfigError
from channels.telegram.webhook import secret_matches

bp = Blueprint("telegram_webhook", __name__, url_prefix="/telegram")
_lock = threading.Lock()


def _app_for(rt, binding_id: str) -> BotApp:
    """One BotApp per binding per Flask app (created on the first update, then reused)."""
    apps = current_app.extensions.setdefault("telegram_apps", {})
    with _lock:
        if binding_id not in apps:
            apps[binding_id] = BotApp.for_binding(rt, binding_id)
        return apps[binding_id]


@bp.post("/<binding_id>/webhook")
def receive(binding_id: str):
    presented = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
    if not secret_matches(current_app.config["SECRET_KEY"], binding_id, presented):
        return jsonify(ok=False, error="unauthorized"), 401
    rt = current_app.extensions["helpdesk_runtime"]
    if binding_id not in rt.catalog.bindings(kind="telegram"):
        abort(404)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
        return jsonify(ok=False, error="not a Telegram update"), 400
    try:
        bot_app = _app_for(rt, binding_id)
    except BotConfigError as exc:
        current_app.logger.error("%s", exc)
        return jsonify(ok=False, error="bot not configured"), 503
    handled = bot_app.handle_update(types.Update.de_json(payload))
    return jsonify(ok=True, handled=handled)
