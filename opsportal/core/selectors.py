"""Core reads: the audit log and the staff list as the portal shows them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet

from opsportal.core.models import AuditEntry


def audit_entries(*, action: str = "", actor: str = "", object_type: str = "") -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("actor")
    if action:
        entries = entries.filter(action__startswith=action)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if object_type:
        entries = entries.filter(object_type=object_type)
    return entries


AUDIT_ACTIONS_SQL = """
WITH RECURSIVE actions(action) AS (
    SELECT MIN(action) FROM core_auditentry
    UNION ALL
    SELECT (SELECT MIN(e.action) FROM core_auditentry e WHERE e.action > actions.action)
    FROM actions WHERE actions.action IS NOT NULL
)
SELECT action FROM actions WHERE action IS NOT NULL
"""


def audit_actions() -> list[str]:
    """Every action the log holds, in order. A loose index scan (one index probe per distinct action) rather
    than DISTINCT over the whole log, which reads every row of an append-only table (issue 11)."""
    assert AuditEntry._meta.db_table == "core_auditentry"  # named in the SQL below
    with connection.cursor() as cursor:
        cursor.execute(AUDIT_ACTIONS_SQL)
        return [row[0] for row in cursor.fetchall()]


def staff_members() -> QuerySet:
    return (
        get_user_model()
        .objects.filter(is_active=True, partner__isnull=True)
        .select_related("staff_profile")
        .prefetch_related("groups")
        .order_by("username")
    )
