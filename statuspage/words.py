"""The operator's words for every stored status a page, feed or message shows without a model field's choices:
component statuses (and a group's worst), incident statuses in Statuspage's public vocabulary, maintenance
statuses. One place, so no template turns "partial_outage" into "Partialoutage" again."""

from __future__ import annotations

from opsportal.changes.lifecycle import MaintenanceStatus
from opsportal.incidents.lifecycle import IncidentStatus
from statuspage.models import ComponentStatus

STATUS_WORDS: dict[str, str] = {
    **{status.value: status.label for status in IncidentStatus},
    "postmortem": "Post-mortem",  # Statuspage's public status once a post-mortem is published
    **{status.value: status.label for status in MaintenanceStatus},
    **{value: str(label) for value, label in ComponentStatus.choices},
}


def status_words(value) -> str:
    """'partial_outage' -> 'Partial outage'. A code nobody has named yet still reads as words, never as a code."""
    text = str(value or "")
    return STATUS_WORDS.get(text) or text.replace("_", " ").strip().capitalize()
