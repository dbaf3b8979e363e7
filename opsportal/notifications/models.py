"""Notifications: the outbox and its transports (built in the notifications issue)."""
