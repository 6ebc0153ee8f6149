"""Delivery and conversation channels (Telegram, email); they import engine, never the reverse."""
