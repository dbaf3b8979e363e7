"""The alert stream and the alert group page: who may see and act, what a tap on Acknowledge does, what the
page shows (escaped details, runbooks first, safe links only, the timeline in the viewer's zone)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from oncall.engine import escalations_run_due
from oncall.models import AlertGroup, AlertLogEntry

pytestmark = pytest.mark.django_db

ROLES = ["none", "viewer", "responder", "incident_commander", "admin"]


def test_alert_pages_admit_every_staff_role_and_refuse_outsiders(personas, client_for, raise_alert):
    group = raise_alert()
    for url in (reverse("portal:alert_list"), reverse("portal:alert_group", args=[group.pk])):
        assert client_for(None).get(url).status_code == 302
        for role in ROLES:
            status = client_for(personas[role]).get(url).status_code
            assert status == (403 if role == "none" else 200), (url, role, status)


def test_acknowledge_needs_the_responder_role(personas, client_for, raise_alert):
    group = raise_alert()
    url = reverse("portal:alert_group_act", args=[group.pk, "acknowledge"])
    assert client_for(None).post(url).status_code == 302
    for role in ("none", "viewer"):
        assert client_for(personas[role]).post(url).status_code == 403
    group.refresh_from_db()
    assert group.status == "triggered"


def test_acknowledge_button_changes_the_state_and_the_timeline_shows_who(rob, client_for, raise_alert):
    group = raise_alert()
    client = client_for(rob)
    page = client.get(reverse("portal:alert_group", args=[group.pk])).content.decode()
    assert "big-ack" in page and "Triggered" in page

    response = client.post(reverse("portal:alert_group_act", args=[group.pk, "acknowledge"]))
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.status == "acknowledged" and group.acknowledged_by == rob
    page = client.get(response["Location"]).content.decode()
    assert "big-ack" not in page
    assert 'data-testid="alert-status">Acknowledged' in page
    log = page.split('data-testid="alert-log"')[1]
    assert "Acknowledged" in log and "rob" in log


def test_acknowledging_from_the_stream_swaps_the_row(rob, client_for, raise_alert):
    group = raise_alert()
    response = client_for(rob).post(
        reverse("portal:alert_group_act", args=[group.pk, "acknowledge"]),
        {"from": "stream"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<tr") and "Acknowledged" in body and "Acknowledge<" not in body


def test_acting_on_a_resolved_group_is_a_conflict_and_changes_nothing(rob, client_for, raise_alert):
    group = raise_alert()
    client = client_for(rob)
    client.post(reverse("portal:alert_group_act", args=[group.pk, "resolve"]))
    group.refresh_from_db()
    assert group.status == "resolved"
    before = AlertLogEntry.objects.filter(group=group).count()
    response = client.post(reverse("portal:alert_group_act", args=[group.pk, "acknowledge"]))
    assert response.status_code == 409
    assert "already resolved" in response.content.decode()
    assert AlertLogEntry.objects.filter(group=group).count() == before


def test_an_unknown_action_is_refused(rob, client_for, raise_alert):
    group = raise_alert()
    response = client_for(rob).post(reverse("portal:alert_group_act", args=[group.pk, "explode"]))
    assert response.status_code == 400
    group.refresh_from_db()
    assert group.status == "triggered"


def test_snooze_for_an_hour_and_refuse_a_custom_time_in_the_past(rob, client_for, raise_alert):
    group = raise_alert()
    client = client_for(rob)
    url = reverse("portal:alert_group_snooze", args=[group.pk])
    bad = client.post(url, {"duration": "custom", "until": "2001-01-01T00:00"})
    assert bad.status_code == 400 and "future" in bad.content.decode()
    group.refresh_from_db()
    assert group.status == "triggered"
    assert client.post(url, {"duration": "60"}).status_code == 302
    group.refresh_from_db()
    assert group.status == "acknowledged" and group.snoozed_until is not None


def test_snooze_refuses_hostile_input(rob, client_for, raise_alert):
    group = raise_alert()
    url = reverse("portal:alert_group_snooze", args=[group.pk])
    for data in (
        {"duration": "99999999999999999999"},
        {"duration": "custom", "until": "9999-12-31T23:59"},
        {"duration": "custom", "until": "2030-01-01T00:00\x00"},
    ):
        assert client_for(rob).post(url, data).status_code == 400, data
    group.refresh_from_db()
    assert group.status == "triggered"


def test_declare_incident_links_both_ways(irene, client_for, raise_alert):
    group = raise_alert()  # critical → P0
    response = client_for(irene).post(reverse("portal:alert_group_declare", args=[group.pk]))
    group.refresh_from_db()
    assert group.incident is not None
    assert response["Location"] == reverse("portal:incident_detail", args=[group.incident_id])
    incident_page = client_for(irene).get(response["Location"]).content.decode()
    assert reverse("portal:alert_group", args=[group.pk]) in incident_page
    alert_page = client_for(irene).get(reverse("portal:alert_group", args=[group.pk])).content.decode()
    assert group.incident.reference in alert_page


def test_group_page_escapes_details_and_links_only_to_web_addresses(vera, client_for, raise_alert):
    group = raise_alert(
        details={"<script>alert(1)</script>": "<b>bold</b>", "nested": {"a": [1, 2]}},
        links=[
            {"href": "https://wiki.example.com/db", "text": "Dashboard"},
            {"href": "javascript:alert(1)", "text": "Evil"},
            {"href": "https://wiki.example.com/runbooks/disk", "text": "Disk full"},
        ],
    )
    page = client_for(vera).get(reverse("portal:alert_group", args=[group.pk])).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "<b>bold</b>" not in page
    assert 'href="javascript:' not in page
    assert page.index("runbooks/disk") < page.index("wiki.example.com/db")
    assert "Acting on alerts needs the responder role" in page


def test_group_page_shows_pages_and_the_next_step_in_the_viewers_zone(ana, client_for, raise_alert):
    group = raise_alert()
    escalations_run_due()
    page = client_for(ana).get(reverse("portal:alert_group", args=[group.pk])).content.decode()
    assert "Europe/Dublin" in page
    assert 'data-testid="next-step"' in page and "Next: level 2" in page
    assert "Level 1: paging" in page


def test_stream_lists_open_groups_first_and_filters(vera, client_for, raise_alert, rob):
    first = raise_alert("a", summary="Checkout latency high")
    second = raise_alert("b", summary="Disk full", severity="warning")
    from oncall.alerting import alert_group_acknowledge, alert_group_resolve

    alert_group_acknowledge(actor=rob, group=first)
    third = raise_alert("c", summary="Queue backlog")
    alert_group_resolve(actor=rob, group=third)
    client = client_for(vera)
    body = client.get(reverse("portal:alert_list"), {"status": "all"}).content.decode()
    assert (
        body.index(f"alert-row-{second.pk}")
        < body.index(f"alert-row-{first.pk}")
        < body.index(f"alert-row-{third.pk}")
    )
    default = client.get(reverse("portal:alert_list")).content.decode()
    assert f"alert-row-{third.pk}" not in default
    found = client.get(reverse("portal:alert_list"), {"q": "latency"}).content.decode()
    assert f"alert-row-{first.pk}" in found and f"alert-row-{second.pk}" not in found
    p2 = client.get(reverse("portal:alert_list"), {"severity": "P2"}).content.decode()
    assert f"alert-row-{second.pk}" in p2 and f"alert-row-{first.pk}" not in p2


def test_stream_refuses_hostile_filters(vera, client_for):
    response = client_for(vera).get(
        reverse("portal:alert_list"), {"q": "x\x00y", "team": "99999999999999999999"}
    )
    assert response.status_code == 400


def test_stream_polls_for_updates_and_answers_the_poll_with_the_results_alone(vera, client_for, raise_alert):
    raise_alert()
    client = client_for(vera)
    page = client.get(reverse("portal:alert_list")).content.decode()
    assert 'hx-trigger="every 5s"' in page
    poll = client.get(reverse("portal:alert_list"), headers={"HX-Request": "true"}).content.decode()
    assert poll.lstrip().startswith('<section id="alert-stream"') and "<html" not in poll


def test_stream_costs_the_same_queries_for_5_or_50_groups(
    vera, client_for, integration, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from oncall.models import AlertGroup

    def fill(n):
        AlertGroup.objects.bulk_create(
            AlertGroup(
                integration=integration, team=integration.team, dedup_key=f"k{i}-{n}", summary=f"alert {i}"
            )
            for i in range(n)
        )

    client = client_for(vera)
    client.get(reverse("portal:alert_list"))  # warm the session and the content types
    fill(5)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("portal:alert_list")).status_code == 200
    fill(45)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("portal:alert_list")).status_code == 200
    assert AlertGroup.objects.count() == 50
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_menu_counts_triggered_groups(vera, client_for, raise_alert):
    raise_alert("a")
    raise_alert("b")
    page = client_for(vera).get(reverse("portal:home")).content.decode()
    assert 'data-testid="nav-alert-count">2<' in page


def test_a_huge_group_id_is_a_404(vera, client_for):
    assert client_for(vera).get("/portal/alerts/99999999999999999999/").status_code == 404
    assert client_for(vera).get("/portal/alerts/12345/").status_code == 404
    assert AlertGroup.objects.count() == 0


def test_custom_snooze_is_read_in_the_viewers_zone(ana, client_for, raise_alert):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    group = raise_alert()
    dublin = ZoneInfo("Europe/Dublin")
    until = (
        (timezone.now() + timedelta(days=1))
        .astimezone(dublin)
        .replace(hour=7, minute=30, second=0, microsecond=0)
    )
    response = client_for(ana).post(
        reverse("portal:alert_group_snooze", args=[group.pk]),
        {"duration": "custom", "until": until.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.snoozed_until == until == datetime(until.year, until.month, until.day, 7, 30, tzinfo=dublin)


def test_live_panel_carries_the_status_line_out_of_band(rob, vera, client_for, raise_alert):
    from oncall.alerting import alert_group_acknowledge

    group = raise_alert()
    alert_group_acknowledge(actor=rob, group=group)
    body = client_for(vera).get(reverse("portal:alert_group_live", args=[group.pk])).content.decode()
    assert body.lstrip().startswith('<section id="alert-escalation"')
    assert 'id="alert-status-line" class="badges alert-badges" hx-swap-oob="true"' in body
    assert "Acknowledged" in body and "by rob" in body
