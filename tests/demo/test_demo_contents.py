"""What the demo holds, read from one load shared by the module (loading it is most of these tests' time)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from oncall.models import (
    AlertGroup,
    ContactMethod,
    EscalationPolicy,
    NotificationRule,
    Region,
    Route,
    Team,
    TeamMembership,
)
from opsportal.changes.models import MaintenanceWindow
from opsportal.core.roles import Role, role_of
from opsportal.demo.data import demo_load
from statuspage.models import Component, ComponentGroup, ComponentStatusChange

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Loaded once, inside a transaction rolled back at the module's end; each test runs in a savepoint within it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield demo_load()
        transaction.set_rollback(True)


def test_demo_data_is_complete(demo):
    assert {(r.code, r.time_zone) for r in Region.objects.all()} == {
        ("NA", "America/Toronto"),
        ("EU", "Europe/Dublin"),
        ("APAC", "Asia/Singapore"),
    }
    staff = get_user_model().objects.all()
    assert staff.count() == 12
    assert {role_of(user) for user in staff} == set(Role)
    assert {m.region.code for m in TeamMembership.objects.select_related("region")} == {"NA", "EU", "APAC"}
    groups = set(ComponentGroup.objects.values_list("name", flat=True))
    assert {"Storefront", "Checkout", "Payments", "Admin", "Partner API", "Webhooks", "CDN"} <= groups
    # History to draw 90 days of uptime from, with real outages in it.
    assert ComponentStatusChange.objects.filter(status="major_outage").exists()
    assert all(c.status_changes.exists() for c in Component.objects.all())
    # Incidents to command and to compute metrics from.
    from opsportal.incidents.models import Incident

    assert Incident.objects.filter(status="investigating", severity="P1").count() == 1
    assert Incident.objects.filter(status__in=["resolved", "closed"]).count() == 9
    assert Incident.objects.filter(postmortem__status="published").exists()
    # Maintenance: one finished window for history, one coming up for the public page.
    past, upcoming = MaintenanceWindow.objects.order_by("scheduled_for")
    assert past.status == "completed" and past.scheduled_until < timezone.now()
    assert past.completed_at < timezone.now() - timedelta(days=9)
    assert (upcoming.title, upcoming.status) == ("Payouts bank-file switch", "scheduled")
    assert [c.name for c in upcoming.components.all()] == ["Payouts"]
    assert Component.objects.get(name="Reports and analytics").status == "operational"


def test_demo_alerting_per_team_and_follow_the_sun(demo):
    for team in Team.objects.all():
        kinds = sorted(team.integrations.values_list("kind", flat=True))
        assert kinds == ["alertmanager", "heartbeat", "pagerduty"], team.name
        policy = EscalationPolicy.objects.get(team=team, name=f"{team.name} default")
        levels = list(policy.levels.prefetch_related("targets").order_by("position"))
        assert [(level.delay_minutes, level.severities) for level in levels] == [
            (5, []),
            (10, []),
            (10, ["P0"]),
        ]
        assert [t.kind for t in levels[0].targets.all()] == ["schedule"]
        assert [t.kind for t in levels[1].targets.all()] == ["schedule_secondary"]
        assert {t.kind for t in levels[2].targets.all()} == {"user"}
    # Routes: critical pages now as a P0; Europe goes to the EU team.
    critical = Route.objects.filter(name="Critical pages now")
    assert critical.count() == 6
    assert all(r.severity_map == {"critical": "P0"} and r.urgency == "high" for r in critical)
    europe = Route.objects.filter(conditions__0__field="labels.region")
    assert europe.exists() and all(r.team.slug == "payments" and r.escalation_policy for r in europe)
    # Follow the sun: regional schedules, skipping people at night in their own zone.
    sun = EscalationPolicy.objects.get(name="Platform follow the sun")
    first = sun.levels.order_by("position").first()
    assert first.time_condition == {
        "zone": "target", "days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "07:00", "when": "outside"
    }  # fmt: skip
    regional = {t.schedule.slug for t in first.targets.select_related("schedule")}
    assert regional == {"platform-na", "platform-eu", "platform-apac"}


def test_demo_responders_have_verified_contact_methods_and_rules(demo):
    for username in ("chloe", "goran", "jun", "ana"):
        methods = ContactMethod.objects.filter(user__username=username)
        assert {(m.kind, m.is_verified) for m in methods} == {("push", True), ("email", True)}, username
        rules = NotificationRule.objects.filter(user__username=username).select_related("contact_method")
        assert [(r.contact_method.kind, r.delay_minutes) for r in rules] == [("push", 0), ("email", 1)]
    assert not ContactMethod.objects.filter(user__username="dev").exists()  # a viewer is not paged


def test_demo_alert_history(demo):
    groups = AlertGroup.objects.all()
    assert groups.filter(status="resolved").count() == 3
    (acked,) = groups.filter(status="acknowledged")
    assert acked.acknowledged_by.username == "goran"
    for group in groups:
        kinds = set(group.log.values_list("kind", flat=True))
        assert {"triggered", "routed", "acknowledged"} <= kinds
    assert groups.get(dedup_key="checkout-5xx").incident_severity == "P0"
    # The history pages nobody now: every escalation it started is over.
    assert not groups.filter(escalation__status="active").exists()
