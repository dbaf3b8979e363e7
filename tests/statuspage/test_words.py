"""Every status a page shows reads in the operator's words: never "Partialoutage", never "partial_outage"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opsportal.changes import services as maintenance_services
from opsportal.changes.lifecycle import MaintenanceStatus
from opsportal.core.services import SYSTEM
from opsportal.demo.data import demo_load
from opsportal.incidents import services as incident_services
from opsportal.incidents.models import Incident
from opsportal.notifications.models import Delivery
from opsportal.notifications.services import Recipient, notification_enqueue
from statuspage.models import Component, ComponentGroup, ComponentStatus
from statuspage.services import component_set_status
from statuspage.words import STATUS_WORDS, status_words
from tests.html_text import visible_text

# Every stored status code made of words joined by "_" (every vocabulary the pages show).
CODES = sorted(
    {code for code in STATUS_WORDS if "_" in code}
    | {code for code, _ in Delivery.Status.choices if "_" in code}
)


def _misspellings(text: str) -> list[str]:
    """Status codes as stored ("partial_outage") or run together ("Partialoutage", "Postmortem")."""
    found = []
    for code in [*CODES, "post_mortem"]:
        for spelling in (code, code.replace("_", "")):
            if re.search(rf"(?<![\w/.-]){re.escape(spelling)}(?![\w/.-])", text, flags=re.IGNORECASE):
                found.append(spelling)
    return found


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("partial_outage", "Partial outage"),
        ("degraded_performance", "Degraded performance"),
        ("major_outage", "Major outage"),
        ("under_maintenance", "Under maintenance"),
        ("operational", "Operational"),
        ("in_progress", "In progress"),
        ("investigating", "Investigating"),
        ("postmortem", "Post-mortem"),
        ("some_new_state", "Some new state"),  # not named yet: still words
        ("", ""),
    ],
)
def test_status_words_are_the_operators_words(code, words):
    assert status_words(code) == words


def test_status_words_name_every_component_incident_and_maintenance_status():
    assert set(ComponentStatus.values) <= set(STATUS_WORDS)
    assert {s.value for s in MaintenanceStatus} <= set(STATUS_WORDS)
    assert all("_" not in words for words in STATUS_WORDS.values())


@pytest.fixture
def every_status(db):
    """The demo, plus a component and a group in every status, incidents and maintenance in every status, and
    deliveries in every state."""
    demo_load()
    now = timezone.now()
    components = list(Component.objects.order_by("pk"))
    for n, (status, component) in enumerate(zip(ComponentStatus.values, components, strict=False)):
        group = ComponentGroup.objects.create(name=f"Group {n}", position=100 + n)
        Component.objects.filter(pk=component.pk).update(group=group)
        component_set_status(actor=SYSTEM, component=component, status=status, notify=False)
    payouts = Component.objects.get(name="Payouts")
    for n, status in enumerate(("in_progress", "verifying", "cancelled")):
        window = maintenance_services.maintenance_schedule(
            actor=SYSTEM,
            title=f"Window {n}",
            body="Body.",
            components=[payouts],
            scheduled_for=now + timedelta(hours=5),
            scheduled_until=now + timedelta(hours=6),
        )
        path = {"in_progress": ["in_progress"], "verifying": ["in_progress", "verifying"]}.get(
            status, [status]
        )
        for step in path:
            maintenance_services.maintenance_transition(
                actor=SYSTEM, window=window, status=step, body="Step."
            )
    for n, status in enumerate(("identified", "monitoring", "declined")):
        incident = incident_services.incident_declare(actor=SYSTEM, title=f"Incident {n}", severity="P3")
        incident_services.incident_transition(actor=SYSTEM, incident=incident, status=status)
    incident_services.incident_declare(actor=SYSTEM, title="Still in triage", severity="P4")
    message = notification_enqueue(
        kind="incident_update",
        dedupe_key="every-status",
        subject="[Investigating] Checkout errors",
        text="Body",
        recipients=[Recipient("email", f"m{n}@example.com") for n in range(len(Delivery.Status.values))],
    )
    for delivery, status in zip(message.deliveries.order_by("pk"), Delivery.Status.values, strict=True):
        Delivery.objects.filter(pk=delivery.pk).update(status=status)
    return message


def _pages(message) -> list[str]:
    portal = [
        reverse("portal:home"),
        reverse("portal:incident_list"),
        reverse("portal:maintenance_list"),
        reverse("portal:component_list"),
        reverse("portal:delivery_log"),
        reverse("portal:message_detail", args=[message.pk]),
        reverse("portal:subscriber_list"),
        reverse("portal:oncall_board"),
    ]
    portal += [
        reverse("portal:incident_detail", args=[pk]) for pk in Incident.objects.values_list("pk", flat=True)
    ]
    from opsportal.changes.models import MaintenanceWindow

    windows = list(MaintenanceWindow.objects.values_list("pk", flat=True))
    portal += [reverse("portal:maintenance_detail", args=[pk]) for pk in windows]
    public = [
        reverse("status_home"),
        reverse("public_history"),
        reverse("history_rss"),
        reverse("history_atom"),
    ]
    public += [reverse("public_incident", args=[pk]) for pk in Incident.objects.values_list("pk", flat=True)]
    public += [reverse("public_maintenance", args=[pk]) for pk in windows]
    return portal + public


def test_no_page_shows_a_status_run_together_or_as_a_code(every_status):
    client = Client()
    client.force_login(get_user_model().objects.get(username="ana"))  # the demo's admin sees every page
    problems = {}
    shown = 0
    for url in _pages(every_status):
        response = client.get(url)
        if response.status_code == 404:  # a declined incident or a cancelled window has no public page
            continue
        assert response.status_code == 200, url
        shown += 1
        text = visible_text(response.content.decode())
        if found := _misspellings(text):
            problems[url] = found
    assert problems == {}
    assert shown > 20


def test_group_status_reads_in_words_on_the_public_page(every_status):
    text = visible_text(Client().get(reverse("status_home")).content.decode())
    statuses = dict(zip(ComponentStatus.values, range(len(ComponentStatus.values)), strict=True))
    assert f"Group {statuses['partial_outage']} Partial outage" in text
    assert f"Group {statuses['under_maintenance']} Under maintenance" in text
