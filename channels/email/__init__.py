"""Email channel: SMTP delivery of notifications."""
