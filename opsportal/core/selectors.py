"""Core reads: the audit log and the staff list as the portal shows them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
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


def audit_actions() -> list[str]:
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())


def staff_members() -> QuerySet:
    return (
        get_user_model()
        .objects.filter(is_active=True, partner__isnull=True)
        .select_related("staff_profile")
        .prefetch_related("groups")
        .order_by("username")
    )
