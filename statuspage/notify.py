"""Tell subscribers: one outbox message per public event, fanned out to every matching subscriber,
written in the same transaction as the change. Bodies follow Statuspage's subscriber notifications."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string

from opsportal.core.text import one_line
from opsportal.incidents.selectors import public_incident
from opsportal.notifications.services import notification_enqueue
from statuspage import payloads
from statuspage.selectors import public_component_ids
from statuspage.subscriptions import subscriber_recipients, subscribers_for_components
from statuspage.words import status_words

SUBJECT_MAX = 300  # Message.subject


def _meta() -> dict:
    # meta.unsubscribe is per recipient; the webhook transport fills it from the delivery's context.
    return {"unsubscribe": None, "documentation": f"{settings.PUBLIC_URL}/api/v1/docs/"}


def _page() -> dict:
    status = payloads.page_status()
    return {
        "id": settings.STATUSPAGE_ID,
        "status_indicator": status["indicator"],
        "status_description": status["description"],
    }


def _enqueue(
    *, kind: str, dedupe_key: str, subject: str, context: dict, payload: dict, component_ids: list[int]
):
    # Titles stored before the input rules may hold line breaks; a subject and a text are one line.
    subject = one_line(subject)[:SUBJECT_MAX]
    text = render_to_string("notifications/statuspage_event.txt", context)
    html = render_to_string("notifications/statuspage_event.html", context)
    sms = f"{settings.STATUSPAGE_NAME}: {subject}"
    # Streamed: a 100,000-subscriber fan-out never holds every subscriber in memory.
    recipients = subscriber_recipients(subscribers_for_components(component_ids).iterator(chunk_size=2000))
    return notification_enqueue(
        kind=kind,
        dedupe_key=dedupe_key,
        subject=subject,
        text=text,
        html=html,
        payload={"webhook": payload, "sms": sms, "link": context["link"]},
        recipients=recipients,
    )


def notify_incident_update(*, incident, update) -> None:
    public = public_incident(incident.pk)
    if public is None:
        return
    ids = public_component_ids()
    body = payloads.incident_object(public, public_component_ids=ids)
    component_ids = sorted(
        {c["component_id"] for c in update.component_statuses}
        | {a.component_id for a in public.affected_components.all()}
    )
    link = f"{settings.PUBLIC_URL}/incidents/{incident.pk}/"
    subject = f"[{status_words(update.status)}] {incident.public_title}"
    _enqueue(
        kind="incident_update",
        dedupe_key=f"incident-update:{update.pk}",
        subject=subject,
        context={
            "title": incident.public_title,
            "status": status_words(update.status),
            "body": update.body,
            "link": link,
            "components": [c["name"] for c in update.component_statuses],
        },
        payload={"meta": _meta(), "page": _page(), "incident": body},
        component_ids=component_ids,
    )


def notify_component_status(*, component, change) -> None:
    if not component.showcase:
        return
    link = f"{settings.PUBLIC_URL}/"
    subject = f"{component.name} is {component.get_status_display().lower()}"
    payload = {
        "meta": _meta(),
        "page": _page(),
        "component_update": {
            "created_at": payloads.timestamp(change.at),
            "new_status": change.status,
            "old_status": change.previous_status,
            "id": str(change.pk),
            "component_id": str(component.pk),
        },
        "component": payloads.component_object(component),
    }
    _enqueue(
        kind="component_status",
        dedupe_key=f"component-status:{change.pk}",
        subject=subject,
        context={
            "title": component.name,
            "status": component.get_status_display(),
            "body": subject,
            "link": link,
            "components": [component.name],
        },
        payload=payload,
        component_ids=[component.pk],
    )


def notify_maintenance(*, window, event: str, update=None) -> None:
    """event: scheduled, reminder, started (in_progress), verifying, completed, cancelled."""
    link = f"{settings.PUBLIC_URL}/maintenance/{window.pk}/"
    label = "Starting soon" if event == "reminder" else status_words(event)
    subject = f"[{label}] {window.title}"
    components = list(window.components.all())
    _enqueue(
        kind=f"maintenance_{event}",
        dedupe_key=f"maintenance:{window.pk}:{event}:{update.pk if update else ''}",
        subject=subject,
        context={
            "title": window.title,
            "status": label,
            "body": update.body if update else window.body,
            "link": link,
            "components": [c.name for c in components],
            "window": window,
        },
        payload={"meta": _meta(), "page": _page(), "incident": payloads.maintenance_object(window)},
        component_ids=[c.pk for c in components],
    )


def notify_postmortem_published(*, incident, postmortem) -> None:
    link = f"{settings.PUBLIC_URL}/incidents/{incident.pk}/"
    subject = f"[{status_words('postmortem')}] {incident.public_title}"
    component_ids = list(incident.affected_components.values_list("component_id", flat=True))
    _enqueue(
        kind="postmortem_published",
        dedupe_key=f"postmortem:{postmortem.pk}",
        subject=subject,
        context={
            "title": incident.public_title,
            "status": status_words("postmortem"),
            "body": postmortem.public_summary,
            "link": link,
            "components": [],
        },
        payload={
            "meta": _meta(),
            "page": _page(),
            "incident": {
                "id": str(incident.pk),
                "name": incident.public_title,
                "status": "postmortem",
                "postmortem_body": postmortem.public_summary,
            },
        },
        component_ids=component_ids,
    )
