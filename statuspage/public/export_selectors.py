"""What the static export reads to know which pages changed: a fingerprint of everything each incident's and
each maintenance window's public page shows, for all of them, in a handful of queries (no page rendered).

A fingerprint is a hash of the rows a page is built from (not of `updated_at` alone: a service that saves with
`update_fields` leaves it untouched, and a new public update or a renamed component never touches it). The
export compares them with the ones it wrote last time; only pages whose fingerprint moved are rendered again.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Max, Sum, TextField
from django.db.models.functions import Cast, Length

from opsportal.changes.models import MaintenanceUpdate, MaintenanceWindow
from opsportal.incidents.models import AffectedComponent, PublicUpdate
from opsportal.incidents.selectors import public_incidents


@dataclass(frozen=True)
class PageSource:
    """One page's fingerprint, and the month of the history it is listed under."""

    fingerprint: str
    month: str  # "YYYY-MM"
    # What a line of the history shows (incidents: title, status, start): most changes, a new update to an
    # incident of last year say, leave it alone, and then the history months need no new rendering.
    headline: str = ""


def _digest(*parts) -> str:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=12).hexdigest()


def _as_text(field: str) -> Cast:
    # Times come back as the database's own text (UTC): parsing ten thousand of them into datetimes was most
    # of this module's time on two years of history.
    return Cast(field, output_field=TextField())


def incident_sources() -> dict[int, PageSource]:
    """Every public incident (id -> fingerprint, month): its row, its public updates, its components and its
    published post-mortem summary, which is all its public page shows."""
    updates = {
        incident_id: f"{n}.{last_id}.{chars}"
        for incident_id, n, last_id, chars in PublicUpdate.objects.values("incident_id")
        .annotate(n=Count("id"), last_id=Max("id"), chars=Sum(Length("body")))
        .values_list("incident_id", "n", "last_id", "chars")
        .order_by()
    }
    affected: dict[int, list] = defaultdict(list)
    for incident_id, name, impact in AffectedComponent.objects.values_list(
        "incident_id", "component__name", "impact"
    ).order_by("incident_id", "component_id"):
        affected[incident_id].append(f"{name}={impact}")
    rows = (
        public_incidents()
        .prefetch_related(None)
        .order_by()
        .annotate(started_text=_as_text("started_at"), resolved_text=_as_text("resolved_at"))
        .values_list(
            "id", "public_title", "status", "started_text", "resolved_text", "public_postmortem_summary"
        )
    )
    return {
        pk: PageSource(
            fingerprint=_digest(title, status, started, resolved, summary, updates.get(pk), affected.get(pk)),
            month=started[:7],  # "YYYY-MM": the history buckets by the UTC date of the start, as text says it
            headline=_digest(title, status, bool(summary), started),
        )
        for pk, title, status, started, resolved, summary in rows
    }


def maintenance_sources() -> dict[int, PageSource]:
    """Every maintenance window (id -> fingerprint, month): its row, its updates and its components."""
    updates = {
        window_id: f"{n}.{last_id}.{chars}"
        for window_id, n, last_id, chars in MaintenanceUpdate.objects.values("window_id")
        .annotate(n=Count("id"), last_id=Max("id"), chars=Sum(Length("body")))
        .values_list("window_id", "n", "last_id", "chars")
        .order_by()
    }
    components: dict[int, list] = defaultdict(list)
    for window_id, name in MaintenanceWindow.components.through.objects.values_list(
        "maintenancewindow_id", "component__name"
    ).order_by("maintenancewindow_id", "component_id"):
        components[window_id].append(name)
    rows = MaintenanceWindow.objects.order_by().values_list(
        "id", "title", "body", "scheduled_for", "scheduled_until", "status", "started_at", "completed_at"
    )
    return {
        row[0]: PageSource(
            fingerprint=_digest(*row[1:], updates.get(row[0]), components.get(row[0])),
            month=f"{row[3]:%Y-%m}",
        )
        for row in rows
    }
