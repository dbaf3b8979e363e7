"""Public content changed: domain writes announce it here, and whichever public door is installed acts on it.

Core knows no door. The status page's public app registers its listener when Django starts
(`StatuspagePublicConfig.ready`), so a write to a component or an incident never imports the pages, the
cache or the export it invalidates. This is one named hook with one caller-facing function, not a signal
bus: the listener decides what "changed" costs (a version bump on commit, a re-export).
"""

from __future__ import annotations

from collections.abc import Callable

_listeners: list[Callable[[str], None]] = []


def public_content_listen(listener: Callable[[str], None]) -> None:
    """Register a door's listener (idempotent: `ready()` may run more than once in tests)."""
    if listener not in _listeners:
        _listeners.append(listener)


def public_content_changed(reason: str) -> None:
    """Call inside the transaction that changes something public. Listeners defer their work to its commit,
    so a rolled-back change announces nothing."""
    for listener in list(_listeners):
        listener(reason)
