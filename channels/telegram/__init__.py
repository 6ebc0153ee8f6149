"""Telegram bots generated from the catalog: support conversations, notification delivery, runner."""
