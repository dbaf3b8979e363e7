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
# Final: nothing follows, so nothing more may be done to it (no public update, no role change) until reopened.
FINAL = frozenset(status for status, onward in TRANSITIONS.items() if not onward)
# Once mitigated (monitoring or later), the customer impact has stopped.
MITIGATED = frozenset({S.MONITORING, S.RESOLVED, S.CLOSED})
# Under command: past triage, not yet resolved. A P0/P1 here keeps its commander (hand over, never just leave).
COMMANDED = frozenset({S.INVESTIGATING, S.IDENTIFIED, S.MONITORING})
# A commander may still be named once resolved (for the post-mortem), never after that.
TAKES_COMMANDER = ACTIVE | {S.RESOLVED}
# Its post-mortem may be published once the incident is over.
POSTMORTEM_PUBLISHABLE = frozenset({S.RESOLVED, S.CLOSED})
# Not incidents in the metrics: a declined one never was, a merged one counts in the incident it joined.
NOT_COUNTED = frozenset({S.DECLINED, S.MERGED})
# Never shown in public, whatever it said.
NEVER_PUBLIC = frozenset({S.DECLINED})

# Statuspage's incident statuses, which the public page and /api/v2 speak.
PUBLIC_STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
# The ones a public update may set (a post-mortem is published, not posted).
PUBLIC_UPDATE_STATUSES = PUBLIC_STATUSES[:4]
# What the public reads as "over".
PUBLIC_OVER = frozenset({"resolved", "postmortem"})


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
    if status in NEVER_PUBLIC:
        return None
    if status in (S.RESOLVED, S.CLOSED, S.MERGED):
        return "postmortem" if postmortem_published else "resolved"
    if status == S.TRIAGE:
        return "investigating"
    return status.value


def internal_status_for_public(public: str) -> IncidentStatus:
    """A public update's status moves the incident to the matching internal status."""
    if public not in PUBLIC_UPDATE_STATUSES:
        raise ValueError(
            f"A public update's status is one of {', '.join(PUBLIC_UPDATE_STATUSES)}, not {public!r}."
        )
    return IncidentStatus(public)


def public_update_default(status: IncidentStatus | str) -> str:
    """The status a new public update starts from: where the incident is, or "investigating" (triage)."""
    value = IncidentStatus(status).value
    return value if value in PUBLIC_UPDATE_STATUSES else "investigating"
