"""Status page background work: the static re-export. Safe to run twice (it rewrites the same files)."""

from celery import shared_task
from django.conf import settings

from statuspage.public.export import export_statuspage


@shared_task(name="statuspage.public.tasks.export_statuspage_files")
def export_statuspage_files() -> int:
    if not settings.STATUSPAGE_EXPORT_DIR:
        return 0
    return len(export_statuspage(settings.STATUSPAGE_EXPORT_DIR))
