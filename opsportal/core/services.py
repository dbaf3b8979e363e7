"""Core writes: the audit log, staff roles, durable timers."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from opsportal.core.context import current_request_id
from opsportal.core.exceptions import Conflict  # noqa: F401  (re-exported for services)
from opsportal.core.live import announce_authority_changed
from opsportal.core.models import AuditEntry, ScheduledJob
from opsportal.core.roles import ADMINISTER, ROLE_ORDER, Role, is_partner_account, role_of

logger = logging.getLogger(__name__)

# A claimed job whose worker vanished is handed out again after this long.
JOB_CLAIM_LEASE = timedelta(minutes=5)
JOB_MAX_ATTEMPTS = 5


def audit_record(
    *,
    actor,
    action: str,
    obj: Any = None,
    before: dict | None = None,
    after: dict | None = None,
    actor_label: str = "",
) -> AuditEntry:
    """Append one audit entry. Call it inside the service's transaction so both land or neither does."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_label=(actor_label or (user.get_username() if user else "system"))[:150],
        action=action,
        object_type=obj._meta.label_lower if obj is not None and hasattr(obj, "_meta") else "",
        object_id=str(getattr(obj, "pk", "") or "") if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before,
        after=after,
        request_id=current_request_id.get(),
    )


class _System:
    """The actor for work nobody clicked: management commands, timers, demo data. Trusted."""

    pk = None
    is_authenticated = False

    def has_perm(self, permission: str) -> bool:
        return True

    def __str__(self) -> str:
        return "system"


SYSTEM = _System()


def user_or_none(actor):
    """The User behind an actor, for foreign keys; None for SYSTEM."""
    return actor if getattr(actor, "is_authenticated", False) else None


def require_permission(actor, permission: str) -> None:
    """Services enforce permissions themselves; views and the API checking first is a courtesy."""
    if actor is None or not actor.has_perm(permission):
        raise PermissionDenied(f"You need the {permission.split('.', 1)[1].replace('_', ' ')} permission.")


@transaction.atomic
def staff_set_role(*, actor, user, role: Role | str | None) -> None:
    """Give a staff member exactly one role (or none, which removes portal access)."""
    require_permission(actor, ADMINISTER)
    new_role = Role(role) if role else None
    if new_role is not None and is_partner_account(user):
        raise ValidationError("A partner's account never holds a staff role.")
    if actor is not SYSTEM and user.pk == actor.pk and new_role != Role.ADMIN:
        raise ValidationError("You cannot take the admin role away from yourself; ask another admin.")
    old_role = role_of(user)
    role_groups = Group.objects.filter(name__in=[r.value for r in ROLE_ORDER])
    user.groups.remove(*role_groups)
    if new_role is not None:
        user.groups.add(Group.objects.get(name=new_role.value))
    # Drop Django's per-instance permission caches so later checks see the new role.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    announce_authority_changed(user.pk)
    audit_record(
        actor=actor,
        action="staff.role_changed",
        obj=user,
        before={"role": old_role.value if old_role else None},
        after={"role": new_role.value if new_role else None},
    )


@transaction.atomic
def staff_create(*, actor, username: str, email: str, role: Role | str, full_name: str = "", password=None):
    require_permission(actor, ADMINISTER)
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": "A staff member with this username already exists."})
    first, _, last = full_name.partition(" ")
    user = User.objects.create_user(
        username=username, email=email, password=password, first_name=first, last_name=last
    )
    audit_record(actor=actor, action="staff.created", obj=user, after={"username": username, "email": email})
    staff_set_role(actor=actor, user=user, role=role)
    return user


def job_schedule(
    *, task: str, run_at: datetime, kwargs: dict | None = None, dedupe_key: str | None = None
) -> ScheduledJob:
    """Store a timer in the database. With a dedupe key, scheduling the same timer twice keeps one."""
    import_string(task)  # fail now, not when the timer fires, if the task does not exist
    if dedupe_key:
        existing = ScheduledJob.objects.filter(dedupe_key=dedupe_key).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                return ScheduledJob.objects.create(
                    task=task, run_at=run_at, kwargs=kwargs or {}, dedupe_key=dedupe_key
                )
        except IntegrityError:
            return ScheduledJob.objects.get(dedupe_key=dedupe_key)
    return ScheduledJob.objects.create(task=task, run_at=run_at, kwargs=kwargs or {})


def job_cancel(*, job: ScheduledJob) -> bool:
    updated = ScheduledJob.objects.filter(pk=job.pk, status=ScheduledJob.Status.SCHEDULED).update(
        status=ScheduledJob.Status.CANCELLED, finished_at=timezone.now()
    )
    return bool(updated)


def jobs_claim_due(*, limit: int = 100) -> list[int]:
    """Claim timers that are due (and ones whose worker vanished). Each id is claimed by one caller only."""
    now = timezone.now()
    with transaction.atomic():
        due = ScheduledJob.objects.filter(
            Q(status=ScheduledJob.Status.SCHEDULED, run_at__lte=now)
            | Q(status=ScheduledJob.Status.CLAIMED, claimed_at__lt=now - JOB_CLAIM_LEASE)
        )
        # SKIP LOCKED on PostgreSQL lets several tickers run at once; SQLite serialises writers anyway.
        ids = list(
            due.order_by("run_at").select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit]
        )
        if ids:
            ScheduledJob.objects.filter(pk__in=ids).update(status=ScheduledJob.Status.CLAIMED, claimed_at=now)
    return ids


def job_execute(*, job_id: int) -> bool:
    """Run one claimed timer's task in this process. Safe to call twice: a finished job is skipped."""
    job = ScheduledJob.objects.filter(pk=job_id).first()
    if job is None or job.status != ScheduledJob.Status.CLAIMED:
        return False
    ScheduledJob.objects.filter(pk=job_id).update(attempts=job.attempts + 1)
    try:
        task = import_string(job.task)
        task.run(**job.kwargs) if hasattr(task, "run") else task(**job.kwargs)
    except Exception as exc:
        logger.exception("Scheduled job %s (%s) failed", job.pk, job.task)
        give_up = job.attempts + 1 >= JOB_MAX_ATTEMPTS
        ScheduledJob.objects.filter(pk=job_id).update(
            status=ScheduledJob.Status.FAILED if give_up else ScheduledJob.Status.SCHEDULED,
            run_at=timezone.now() + timedelta(seconds=2 ** (job.attempts + 1)),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now() if give_up else None,
        )
        return False
    ScheduledJob.objects.filter(pk=job_id).update(status=ScheduledJob.Status.DONE, finished_at=timezone.now())
    return True
