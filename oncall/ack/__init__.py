"""Acknowledge from anywhere: the one-time link door (/a/<token>) and the SMS reply webhook
(/hooks/sms/twilio). A door: only the wiring imports it."""
