"""Maintenance window lifecycle: one pure transition table. No ORM."""

from __future__ import annotations

from enum import StrEnum


class MaintenanceStatus(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


M = MaintenanceStatus
TRANSITIONS: dict[MaintenanceStatus, tuple[MaintenanceStatus, ...]] = {
    M.SCHEDULED: (M.IN_PROGRESS, M.CANCELLED),
    M.IN_PROGRESS: (M.VERIFYING, M.COMPLETED),
    M.VERIFYING: (M.IN_PROGRESS, M.COMPLETED),
    M.COMPLETED: (),
    M.CANCELLED: (),
}
ACTIVE = frozenset({M.IN_PROGRESS, M.VERIFYING})
FINISHED = frozenset({M.COMPLETED, M.CANCELLED})
# Its times may move only before it starts.
RESCHEDULABLE = frozenset({M.SCHEDULED})


class IllegalMaintenanceTransition(ValueError):
    def __init__(self, current: MaintenanceStatus, requested: MaintenanceStatus):
        allowed = ", ".join(s.value for s in TRANSITIONS[current]) or "nothing (it is final)"
        super().__init__(
            f"A maintenance window cannot go from {current.value} to {requested.value}; from {current.value} it can go to {allowed}."
        )


def check_transition(current: MaintenanceStatus | str, requested: MaintenanceStatus | str) -> None:
    current, requested = MaintenanceStatus(current), MaintenanceStatus(requested)
    if requested not in TRANSITIONS[current]:
        raise IllegalMaintenanceTransition(current, requested)
