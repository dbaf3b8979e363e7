"""Incident writes. Each locks the incident, applies one change, appends a timeline event, audits, and
broadcasts on commit. Views, API, tasks and commands all come through here."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from opsportal.core.exceptions import Conflict
from opsportal.core.live import broadcast_on_commit, staff_group
from opsportal.core.public_content import public_content_changed
from opsportal.core.roles import ACCESS_PORTAL, COMMAND_INCIDENTS, RESPOND
from opsportal.core.services import SYSTEM, audit_record, require_permission, user_or_none
from opsportal.core.text import TIMELINE_MAX
from opsportal.incidents.lifecycle import (
    ACTIVE,
    COMMANDED,
    FINAL,
    MITIGATED,
    TAKES_COMMANDER,
    IllegalTransition,
    IncidentStatus,
    check_transition,
    internal_status_for_public,
    public_status,
)
from opsportal.incidents.models import (
    SINGLE_HOLDER_ROLES,
    AffectedComponent,
    Incident,
    IncidentRole,
    Postmortem,
    PublicUpdate,
    RoleAssignment,
    Severity,
    SeverityPolicy,
    TimelineEvent,
)
from opsportal.notifications.services import Recipient, notification_enqueue
from statuspage.models import Component, ComponentStatus
from statuspage.notify import notify_incident_update
from statuspage.services import component_set_status

TITLE_MAX = 200
# Timeline events that can change what the public page shows (status words, impact, post-mortem summary).
PUBLIC_KINDS = {"public_update", "status", "severity", "postmortem", "component", "merged"}


def incident_group(incident_id: int) -> str:
    return f"incident-{incident_id}"


def _actor_label(actor) -> str:
    return actor.get_username() if getattr(actor, "is_authenticated", False) else "system"


def _event(
    incident, kind, actor, body, *, data=None, is_public=False, dedupe_key=None, at=None
) -> TimelineEvent:
    event = TimelineEvent.objects.create(
        incident=incident,
        kind=kind,
        actor=user_or_none(actor),
        actor_label=_actor_label(actor),
        body=body,
        data=data or {},
        is_public=is_public,
        dedupe_key=dedupe_key,
        at=at or timezone.now(),
    )
    _announce(incident, kind)
    if kind in PUBLIC_KINDS:
        public_content_changed(f"incident.{kind}")
    return event


def _announce(incident, what: str, message: str | None = None) -> None:
    broadcast_on_commit(
        incident_group(incident.pk), {"kind": "incident.changed", "incident": incident.pk, "what": what}
    )
    event = {"kind": "incidents.changed", "incident": incident.pk, "what": what}
    if message:
        event["message"] = message
    broadcast_on_commit(staff_group(), event)


def _tell_in_app(user, incident: Incident, text: str, *, dedupe_key: str) -> None:
    """An in-app notification through the outbox, so a page that was closed still finds it in the log."""
    url = reverse("portal:incident_detail", args=[incident.pk])
    notification_enqueue(
        kind="staff_in_app",
        dedupe_key=dedupe_key,
        subject=text,
        text=text,
        recipients=[Recipient("websocket", str(user.pk), ref=f"user:{user.pk}", context={"url": url})],
    )


def _locked(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _policy(severity: str) -> SeverityPolicy:
    return SeverityPolicy.objects.get(severity=severity)


def _require_open(incident: Incident) -> None:
    if incident.status in FINAL:
        raise Conflict(f"{incident.reference} is {incident.status}; reopen it first.")


def _has_commander(incident: Incident) -> bool:
    return incident.role_assignments.filter(role=IncidentRole.COMMANDER, relieved_at__isnull=True).exists()


def _snapshot(incident: Incident) -> dict:
    return {"status": incident.status, "severity": incident.severity, "title": incident.title}


def _check_severity(severity: str) -> None:
    if severity not in Severity.values:
        raise ValidationError(
            {"severity": f"Unknown severity {severity!r}; use one of {', '.join(Severity.values)}."}
        )


def _check_impact(impact: str) -> None:
    if impact not in ComponentStatus.values or impact == ComponentStatus.OPERATIONAL:
        raise ValidationError(
            {
                "impact": f"Impact must be one of degraded_performance, partial_outage, major_outage, under_maintenance; not {impact!r}."
            }
        )


@transaction.atomic
def incident_declare(
    *,
    actor,
    title: str,
    severity: str,
    public_title: str = "",
    summary: str = "",
    team=None,
    started_at: datetime | None = None,
    detected_at: datetime | None = None,
    components: list[tuple[Component, str]] | None = None,
    commander=None,
) -> Incident:
    require_permission(actor, RESPOND)
    title = title.strip()
    if not title:
        raise ValidationError({"title": "Give the incident a title."})
    for field_name, value in (("title", title), ("public_title", public_title.strip())):
        if len(value) > TITLE_MAX:
            raise ValidationError({field_name: f"Keep it under {TITLE_MAX} characters ({len(value)} now)."})
    _check_severity(severity)
    now = timezone.now()
    started_at = started_at or now
    detected_at = detected_at or now
    if started_at > now or detected_at > now:
        raise ValidationError({"started_at": "An incident cannot start or be detected in the future."})
    if detected_at < started_at:
        raise ValidationError({"detected_at": "Detection cannot come before the impact started."})
    for _, impact in components or []:
        _check_impact(impact)
    if commander is not None and not commander.has_perm(COMMAND_INCIDENTS):
        raise ValidationError(
            {"commander": f"{commander.get_username()} does not hold the incident commander role."}
        )
    incident = Incident.objects.create(
        title=title,
        public_title=(public_title or title).strip(),
        summary=summary,
        severity=severity,
        team=team,
        started_at=started_at,
        detected_at=detected_at,
        declared_by=user_or_none(actor),
    )
    _event(
        incident,
        TimelineEvent.Kind.DECLARED,
        actor,
        f"Declared {severity}: {title}",
        data={"severity": severity},
    )
    for component, impact in components or []:
        AffectedComponent.objects.create(incident=incident, component=component, impact=impact)
        _event(
            incident,
            TimelineEvent.Kind.COMPONENT,
            actor,
            f"{component.name} affected: {impact.replace('_', ' ')}",
            data={"component_id": component.pk, "impact": impact},
        )
    audit_record(actor=actor, action="incident.declared", obj=incident, after=_snapshot(incident))
    if commander is not None:
        incident_assign_role(actor=actor, incident=incident, role=IncidentRole.COMMANDER, user=commander)
    _announce(incident, "declared", message=f"{incident.reference} declared ({severity}): {title}")
    return incident


@transaction.atomic
def incident_transition(*, actor, incident: Incident, status: str, note: str = "") -> Incident:
    require_permission(actor, RESPOND)
    incident = _locked(incident)
    try:
        requested = IncidentStatus(status)
    except ValueError:
        raise ValidationError({"status": f"Unknown status {status!r}."}) from None
    if requested == IncidentStatus.MERGED:
        raise ValidationError(
            {"status": "Merge an incident with the merge action, naming the incident it joins."}
        )
    _apply_transition(actor, incident, requested, note)
    return incident


def _apply_transition(actor, incident: Incident, requested: IncidentStatus, note: str = "") -> None:
    current = IncidentStatus(incident.status)
    try:
        check_transition(current, requested)
    except IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    policy = _policy(incident.severity)
    leaving_triage = current == IncidentStatus.TRIAGE and requested != IncidentStatus.DECLINED
    if leaving_triage and policy.requires_commander and not _has_commander(incident):
        raise Conflict(f"A {incident.severity} incident needs an incident commander before it leaves triage.")
    if requested == IncidentStatus.CLOSED and policy.requires_postmortem:
        published = Postmortem.objects.filter(incident=incident, status=Postmortem.Status.PUBLISHED).exists()
        if not published:
            raise Conflict(
                f"A {incident.severity} incident cannot be closed until its post-mortem is published."
            )
    before = _snapshot(incident)
    now = timezone.now()
    fields = ["status", "updated_at"]
    incident.status = requested
    if current == IncidentStatus.TRIAGE and incident.acknowledged_at is None:
        incident.acknowledged_at = now
        fields.append("acknowledged_at")
    if requested in MITIGATED and incident.mitigated_at is None:
        incident.mitigated_at = now
        fields.append("mitigated_at")
    if requested == IncidentStatus.RESOLVED:
        incident.resolved_at = now
        fields.append("resolved_at")
    if requested == IncidentStatus.CLOSED:
        incident.closed_at = now
        fields.append("closed_at")
    if requested in ACTIVE and current not in ACTIVE:  # reopened: the clocks run again
        incident.resolved_at = incident.mitigated_at = None
        fields += ["resolved_at", "mitigated_at"]
    incident.save(update_fields=fields)
    body = f"Status {current.value} → {requested.value}" + (f": {note}" if note else "")
    _event(
        incident, TimelineEvent.Kind.STATUS, actor, body, data={"from": current.value, "to": requested.value}
    )
    audit_record(
        actor=actor, action="incident.status_changed", obj=incident, before=before, after=_snapshot(incident)
    )


@transaction.atomic
def incident_acknowledge(*, actor, incident: Incident) -> Incident:
    """Someone is on it: stops the respond clock. Idempotent."""
    require_permission(actor, RESPOND)
    incident = _locked(incident)
    _require_open(incident)
    if incident.acknowledged_at is None:
        incident.acknowledged_at = timezone.now()
        incident.save(update_fields=["acknowledged_at", "updated_at"])
        _event(
            incident,
            TimelineEvent.Kind.STATUS,
            actor,
            f"Acknowledged by {_actor_label(actor)}",
            data={"acknowledged": True},
        )
        audit_record(actor=actor, action="incident.acknowledged", obj=incident)
    return incident


@transaction.atomic
def incident_change_severity(*, actor, incident: Incident, severity: str, reason: str = "") -> Incident:
    require_permission(actor, RESPOND)
    _check_severity(severity)
    incident = _locked(incident)
    _require_open(incident)
    if incident.severity == severity:
        return incident
    before = _snapshot(incident)
    previous = incident.severity
    incident.severity = severity
    incident.save(update_fields=["severity", "updated_at"])
    body = f"Severity {previous} → {severity}" + (f": {reason}" if reason else "")
    _event(incident, TimelineEvent.Kind.SEVERITY, actor, body, data={"from": previous, "to": severity})
    audit_record(
        actor=actor,
        action="incident.severity_changed",
        obj=incident,
        before=before,
        after=_snapshot(incident),
    )
    return incident


@transaction.atomic
def incident_assign_role(
    *, actor, incident: Incident, role: str, user, replace: bool = False
) -> RoleAssignment:
    """Give `user` a role. A single-holder role that is taken needs replace=True (a handoff), so two
    people racing to take command get one winner and one clear conflict."""
    require_permission(actor, RESPOND)
    if role not in IncidentRole.values:
        raise ValidationError(
            {"role": f"Unknown role {role!r}; use one of {', '.join(IncidentRole.values)}."}
        )
    if role == IncidentRole.COMMANDER and not user.has_perm(COMMAND_INCIDENTS):
        raise ValidationError({"user": f"{user.get_username()} does not hold the incident commander role."})
    if not user.is_active or not user.has_perm(ACCESS_PORTAL):
        raise ValidationError({"user": f"{user.get_username()} is not active staff."})
    incident = _locked(incident)  # serialises every role change on this incident
    if role == IncidentRole.COMMANDER and incident.status not in TAKES_COMMANDER:
        raise Conflict(f"{incident.reference} is {incident.status}; it needs no commander.")
    active = RoleAssignment.objects.filter(incident=incident, role=role, relieved_at__isnull=True)
    if role in SINGLE_HOLDER_ROLES:
        holder = active.select_related("user").first()
        if holder is not None:
            if holder.user_id == user.pk:
                return holder
            if not replace:
                raise Conflict(
                    f"{holder.user.get_username()} is already {IncidentRole(role).label.lower()} of "
                    f"{incident.reference}; hand over explicitly to replace them."
                )
            _relieve(actor, incident, holder, handoff_to=user)
    elif active.filter(user=user).exists():
        return active.get(user=user)
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(incident=incident, role=role, user=user)
    except IntegrityError:
        raise Conflict(f"Someone else took the {IncidentRole(role).label.lower()} role just now.") from None
    if role == IncidentRole.COMMANDER and incident.acknowledged_at is None:
        incident.acknowledged_at = assignment.assigned_at
        incident.save(update_fields=["acknowledged_at", "updated_at"])
    _event(
        incident,
        TimelineEvent.Kind.ROLE_ASSIGNED,
        actor,
        f"{user.get_full_name() or user.get_username()} is {IncidentRole(role).label.lower()}",
        data={"role": role, "user": user.get_username()},
    )
    if user.pk != getattr(actor, "pk", None):
        _tell_in_app(
            user,
            incident,
            f"You are {IncidentRole(role).label.lower()} of {incident.reference}: {incident.title}",
            dedupe_key=f"role:{assignment.pk}",
        )
    audit_record(
        actor=actor,
        action="incident.role_assigned",
        obj=incident,
        after={"role": role, "user": user.get_username()},
    )
    return assignment


def _relieve(actor, incident, assignment: RoleAssignment, handoff_to=None) -> None:
    assignment.relieved_at = timezone.now()
    assignment.save(update_fields=["relieved_at"])
    who = assignment.user.get_full_name() or assignment.user.get_username()
    label = IncidentRole(assignment.role).label.lower()
    body = (
        f"{who} handed {label} to {handoff_to.get_username()}"
        if handoff_to
        else f"{who} is no longer {label}"
    )
    _event(
        incident,
        TimelineEvent.Kind.ROLE_RELIEVED,
        actor,
        body,
        data={"role": assignment.role, "user": assignment.user.get_username()},
    )
    audit_record(
        actor=actor,
        action="incident.role_relieved",
        obj=incident,
        before={"role": assignment.role, "user": assignment.user.get_username()},
    )


@transaction.atomic
def incident_relieve_role(*, actor, incident: Incident, role: str, user) -> None:
    require_permission(actor, RESPOND)
    incident = _locked(incident)
    assignment = RoleAssignment.objects.filter(
        incident=incident, role=role, user=user, relieved_at__isnull=True
    ).first()
    if assignment is None:
        raise Conflict(f"{user.get_username()} does not hold that role on {incident.reference}.")
    commanded = incident.status in COMMANDED
    if role == IncidentRole.COMMANDER and commanded and _policy(incident.severity).requires_commander:
        raise Conflict("An active P0/P1 keeps its commander: hand over to someone instead.")
    _relieve(actor, incident, assignment)


@transaction.atomic
def incident_set_component(*, actor, incident: Incident, component: Component, impact: str | None) -> None:
    """Mark a component affected with an impact, change its impact, or (impact None) remove it."""
    require_permission(actor, RESPOND)
    incident = _locked(incident)
    existing = AffectedComponent.objects.filter(incident=incident, component=component).first()
    if impact is None:
        if existing is None:
            return
        existing.delete()
        body = f"{component.name} no longer affected"
    else:
        _check_impact(impact)
        if existing is not None and existing.impact == impact:
            return
        AffectedComponent.objects.update_or_create(
            incident=incident, component=component, defaults={"impact": impact}
        )
        body = f"{component.name} affected: {impact.replace('_', ' ')}"
    _event(
        incident,
        TimelineEvent.Kind.COMPONENT,
        actor,
        body,
        data={"component_id": component.pk, "impact": impact},
    )
    audit_record(
        actor=actor,
        action="incident.component_changed",
        obj=incident,
        after={"component": component.name, "impact": impact},
    )


@transaction.atomic
def incident_record_alert_activity(
    *, incident: Incident, text: str, data: dict | None = None, dedupe_key=None
):
    """A line from a linked alert group (who was paged, who acknowledged), written by the alerting engine in
    its own transaction. Internal: never public."""
    return _event(
        incident, TimelineEvent.Kind.ALERT, SYSTEM, text[:TIMELINE_MAX], data=data, dedupe_key=dedupe_key
    )


@transaction.atomic
def incident_add_note(*, actor, incident: Incident, body: str, pinned: bool = False) -> TimelineEvent:
    """An internal note: responders only, never on a public surface."""
    require_permission(actor, RESPOND)
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write something in the note."})
    incident = _locked(incident)
    event = _event(incident, TimelineEvent.Kind.NOTE, actor, body)
    if pinned:
        TimelineEvent.objects.filter(pk=event.pk).update(pinned=True)
        event.pinned = True
    return event


@transaction.atomic
def timeline_event_pin(*, actor, event: TimelineEvent, pinned: bool) -> TimelineEvent:
    require_permission(actor, RESPOND)
    TimelineEvent.objects.filter(pk=event.pk).update(pinned=pinned)
    event.pinned = pinned
    _announce(event.incident, "pinned")
    return event


@transaction.atomic
def incident_post_update(
    *,
    actor,
    incident: Incident,
    status: str,
    body: str,
    component_statuses: list[tuple[Component, str]] | None = None,
) -> PublicUpdate:
    """A public update: text for merchants, a public status, component status changes, all or nothing."""
    require_permission(actor, RESPOND)
    body = body.strip()
    if not body:
        raise ValidationError({"body": "A public update needs text for merchants."})
    try:
        target = internal_status_for_public(status)
    except ValueError as exc:
        raise ValidationError({"status": str(exc)}) from None
    for _, component_status in component_statuses or []:
        if component_status not in ComponentStatus.values:
            raise ValidationError({"components": f"Unknown component status {component_status!r}."})
    incident = _locked(incident)
    if incident.status in FINAL:
        raise Conflict(f"{incident.reference} is {incident.status}; it takes no more public updates.")
    # Triage already reads "investigating" in public: comms can speak before the commander is named.
    if public_status(incident.status) != status:
        _apply_transition(actor, incident, target)
    changes = []
    for component, component_status in component_statuses or []:
        # Statuspage's update shape carries old and new status per component.
        old_status = Component.objects.only("status").get(pk=component.pk).status
        component_set_status(actor=actor, component=component, status=component_status, notify=False)
        changes.append(
            {
                "component_id": component.pk,
                "name": component.name,
                "old_status": old_status,
                "status": component_status,
            }
        )
        if component_status != ComponentStatus.OPERATIONAL:
            AffectedComponent.objects.update_or_create(
                incident=incident, component=component, defaults={"impact": component_status}
            )
    update = PublicUpdate.objects.create(
        incident=incident, status=status, body=body, component_statuses=changes, author=user_or_none(actor)
    )
    _event(
        incident,
        TimelineEvent.Kind.PUBLIC_UPDATE,
        actor,
        body,
        is_public=True,
        data={"status": status, "components": changes, "public_update_id": update.pk},
    )
    audit_record(
        actor=actor,
        action="incident.public_update",
        obj=incident,
        after={"status": status, "body": body, "components": changes},
    )

    notify_incident_update(incident=incident, update=update)
    return update


@transaction.atomic
def incident_merge(*, actor, incident: Incident, into: Incident) -> Incident:
    require_permission(actor, RESPOND)
    if incident.pk == into.pk:
        raise ValidationError({"into": "An incident cannot be merged into itself."})
    incident = _locked(incident)
    into = _locked(into)  # its status is checked under the lock, not from the caller's copy
    if into.status not in ACTIVE:
        raise Conflict(f"{into.reference} is {into.status}; merge into an active incident.")
    _apply_transition(actor, incident, IncidentStatus.MERGED, note=f"merged into {into.reference}")
    incident.merged_into = into
    incident.save(update_fields=["merged_into", "updated_at"])
    audit_record(actor=actor, action="incident.merged", obj=incident, after={"merged_into": into.pk})
    _event(
        into,
        TimelineEvent.Kind.MERGED,
        actor,
        f"{incident.reference} ({incident.title}) merged into this incident",
        data={"merged": incident.pk},
    )
    return incident
