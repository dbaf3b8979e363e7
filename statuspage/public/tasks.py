"""Status page background work: the static re-export. Safe to run twice, and two at once (the second waits
for the first, then finds nothing left to write)."""

from celery import shared_task
from django.conf import settings

from statuspage.public.export import export_statuspage


@shared_task(name="statuspage.public.tasks.export_statuspage_files")
def export_statuspage_files(full: bool = False) -> int:
    """Re-export what changed into STATUSPAGE_EXPORT_DIR; returns the number of files written or removed."""
    if not settings.STATUSPAGE_EXPORT_DIR:
        return 0
    outcome = export_statuspage(settings.STATUSPAGE_EXPORT_DIR, full=full)
    return len(outcome.written) + len(outcome.removed)
