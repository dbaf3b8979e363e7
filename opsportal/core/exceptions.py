"""Errors services raise besides Django's ValidationError and PermissionDenied."""


class Conflict(Exception):
    """Well-formed, but clashes with the current state (HTTP 409): an illegal transition, a role
    someone else already holds."""
