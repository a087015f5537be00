"""Telegram delivery: handlers, conversations, keyboards, texts, reminder job, app factory."""
