"""The incident lifecycle as one pure transition table, and its public (Statuspage) vocabulary. No ORM."""

from __future__ import annotations

from enum import StrEnum


class IncidentStatus(StrEnum):
    TRIAGE = "triage"
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"
    DECLINED = "declined"
    MERGED = "merged"

    @property
    def label(self) -> str:
        return self.value.capitalize()


S = IncidentStatus

# Where each status may go next. Anything not listed is illegal.
TRANSITIONS: dict[IncidentStatus, tuple[IncidentStatus, ...]] = {
    S.TRIAGE: (S.INVESTIGATING, S.IDENTIFIED, S.MONITORING, S.RESOLVED, S.DECLINED, S.MERGED),
    S.INVESTIGATING: (S.IDENTIFIED, S.MONITORING, S.RESOLVED, S.MERGED),
    S.IDENTIFIED: (S.INVESTIGATING, S.MONITORING, S.RESOLVED, S.MERGED),
    S.MONITORING: (S.INVESTIGATING, S.IDENTIFIED, S.RESOLVED),
    S.RESOLVED: (S.INVESTIGATING, S.CLOSED),  # reopen if it comes back
    S.CLOSED: (),
    S.DECLINED: (),
    S.MERGED: (),
}

ACTIVE = frozenset({S.TRIAGE, S.INVESTIGATING, S.IDENTIFIED, S.MONITORING})
FINISHED = frozenset({S.RESOLVED, S.CLOSED, S.DECLINED, S.MERGED})
# Once mitigated (monitoring or later), the customer impact has stopped.
MITIGATED = frozenset({S.MONITORING, S.RESOLVED, S.CLOSED})

# Statuspage's incident statuses, which the public page and /api/v2 speak.
PUBLIC_STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")


class IllegalTransition(ValueError):
    def __init__(self, current: IncidentStatus, requested: IncidentStatus):
        allowed = ", ".join(s.value for s in TRANSITIONS[current]) or "nothing (it is final)"
        super().__init__(
            f"An incident cannot go from {current.value} to {requested.value}; from {current.value} it can go to {allowed}."
        )
        self.current = current
        self.requested = requested


def can_transition(current: IncidentStatus | str, requested: IncidentStatus | str) -> bool:
    return IncidentStatus(requested) in TRANSITIONS[IncidentStatus(current)]


def check_transition(current: IncidentStatus | str, requested: IncidentStatus | str) -> None:
    current, requested = IncidentStatus(current), IncidentStatus(requested)
    if requested not in TRANSITIONS[current]:
        raise IllegalTransition(current, requested)


def public_status(status: IncidentStatus | str, *, postmortem_published: bool = False) -> str | None:
    """The Statuspage status the public sees, or None for incidents that never go public."""
    status = IncidentStatus(status)
    if status == S.DECLINED:
        return None
    if status in (S.RESOLVED, S.CLOSED, S.MERGED):
        return "postmortem" if postmortem_published else "resolved"
    if status == S.TRIAGE:
        return "investigating"
    return status.value


def internal_status_for_public(public: str) -> IncidentStatus:
    """A public update's status moves the incident to the matching internal status."""
    if public not in PUBLIC_STATUSES[:4]:
        raise ValueError(
            f"A public update's status is one of {', '.join(PUBLIC_STATUSES[:4])}, not {public!r}."
        )
    return IncidentStatus(public)
