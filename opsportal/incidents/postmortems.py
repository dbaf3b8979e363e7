"""Post-mortem writes: start (pre-filled from pinned events), edit, review, publish, action items."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opsportal.core.exceptions import Conflict
from opsportal.core.roles import COMMAND_INCIDENTS, RESPOND
from opsportal.core.services import audit_record, require_permission
from opsportal.incidents.lifecycle import POSTMORTEM_PUBLISHABLE
from opsportal.incidents.models import ActionItem, Incident, Postmortem, TimelineEvent
from opsportal.incidents.services import _event, _locked
from statuspage.notify import notify_postmortem_published

EDITABLE_FIELDS = (
    "summary",
    "customer_impact",
    "timeline",
    "root_cause",
    "went_well",
    "went_badly",
    "public_summary",
)
# draft -> in review -> published; review can send it back to draft.
POSTMORTEM_TRANSITIONS = {
    Postmortem.Status.DRAFT: {Postmortem.Status.IN_REVIEW},
    Postmortem.Status.IN_REVIEW: {Postmortem.Status.DRAFT, Postmortem.Status.PUBLISHED},
    Postmortem.Status.PUBLISHED: set(),
}


def pinned_timeline_markdown(incident: Incident) -> str:
    lines = []
    for event in incident.timeline.filter(pinned=True).order_by("at", "id"):
        lines.append(f"- {event.at:%Y-%m-%d %H:%M} UTC · {event.actor_label}: {event.body}")
    return "\n".join(lines)


@transaction.atomic
def postmortem_start(*, actor, incident: Incident) -> Postmortem:
    require_permission(actor, RESPOND)
    incident = _locked(incident)
    existing = Postmortem.objects.filter(incident=incident).first()
    if existing is not None:
        return existing
    postmortem = Postmortem.objects.create(
        incident=incident, timeline=pinned_timeline_markdown(incident), summary=incident.summary
    )
    _event(incident, TimelineEvent.Kind.POSTMORTEM, actor, "Post-mortem started")
    audit_record(actor=actor, action="postmortem.started", obj=postmortem)
    return postmortem


@transaction.atomic
def postmortem_edit(*, actor, postmortem: Postmortem, **fields) -> Postmortem:
    require_permission(actor, RESPOND)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "Not a post-mortem section." for name in unknown})
    postmortem = Postmortem.objects.select_for_update().get(pk=postmortem.pk)
    if postmortem.status == Postmortem.Status.PUBLISHED:
        raise Conflict("A published post-mortem is final; publish a correction as a public update instead.")
    before = {name: getattr(postmortem, name) for name in fields}
    for name, value in fields.items():
        setattr(postmortem, name, value)
    postmortem.save(update_fields=[*fields, "updated_at"])
    audit_record(actor=actor, action="postmortem.edited", obj=postmortem, before=before, after=fields)
    return postmortem


@transaction.atomic
def postmortem_transition(*, actor, postmortem: Postmortem, status: str) -> Postmortem:
    require_permission(actor, RESPOND)
    postmortem = Postmortem.objects.select_for_update().select_related("incident").get(pk=postmortem.pk)
    if status not in Postmortem.Status.values:
        raise ValidationError({"status": f"Unknown post-mortem status {status!r}."})
    if status not in POSTMORTEM_TRANSITIONS[postmortem.status]:
        raise Conflict(f"A post-mortem cannot go from {postmortem.status} to {status}.")
    if status == Postmortem.Status.PUBLISHED:
        require_permission(actor, COMMAND_INCIDENTS)
        if postmortem.incident.status not in POSTMORTEM_PUBLISHABLE:
            raise Conflict("Publish the post-mortem once the incident is resolved.")
        missing = [
            name
            for name in ("summary", "customer_impact", "root_cause")
            if not getattr(postmortem, name).strip()
        ]
        if missing:
            raise ValidationError({name: "Fill this in before publishing." for name in missing})
        postmortem.published_at = timezone.now()
    before = postmortem.status
    postmortem.status = status
    postmortem.save(update_fields=["status", "published_at", "updated_at"])
    _event(
        postmortem.incident, TimelineEvent.Kind.POSTMORTEM, actor, f"Post-mortem {status.replace('_', ' ')}"
    )
    if status == Postmortem.Status.PUBLISHED:
        notify_postmortem_published(incident=postmortem.incident, postmortem=postmortem)
    audit_record(
        actor=actor,
        action="postmortem.status_changed",
        obj=postmortem,
        before={"status": before},
        after={"status": status},
    )
    return postmortem


@transaction.atomic
def action_item_add(
    *, actor, postmortem: Postmortem, title: str, owner=None, due_date: date | None = None
) -> ActionItem:
    require_permission(actor, RESPOND)
    if not title.strip():
        raise ValidationError({"title": "Say what needs doing."})
    item = ActionItem.objects.create(
        postmortem=postmortem, title=title.strip(), owner=owner, due_date=due_date
    )
    audit_record(
        actor=actor,
        action="action_item.added",
        obj=item,
        after={"title": item.title, "owner": owner.get_username() if owner else None, "due_date": due_date},
    )
    return item


@transaction.atomic
def action_item_set_status(*, actor, item: ActionItem, status: str) -> ActionItem:
    require_permission(actor, RESPOND)
    if status not in ActionItem.Status.values:
        raise ValidationError({"status": f"Unknown action item status {status!r}."})
    before = item.status
    item.status = status
    item.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="action_item.status_changed",
        obj=item,
        before={"status": before},
        after={"status": status},
    )
    return item
