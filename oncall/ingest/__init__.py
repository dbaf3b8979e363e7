"""Doors in for monitoring: PagerDuty Events v2, Alertmanager and generic webhooks, heartbeat pings."""
