"""The PagerDuty door's queue (oncall.intake): `/v2/enqueue` answers 202 once the event is stored, and the intake
applies the queue in arrival order, a batch at a time, where one bad event never stops the others."""

from __future__ import annotations

import logging

import pytest

from oncall import alerting, tasks
from oncall.intake import alert_events_apply_queued
from oncall.models import (
    AlertEvent,
    AlertGroup,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Page,
    TargetKind,
)
from tests.oncall.ingest.payloads import pagerduty_example


def _event(key: str, action: str = "trigger", **payload) -> dict:
    return {
        "event_action": action,
        "dedup_key": key,
        "payload": {
            "summary": f"Checkout errors on {key}",
            "source": "web-1",
            "severity": "critical",
            **payload,
        },
    }


def _post(door, integration, key, action="trigger"):
    body = {"routing_key": integration.key, **_event(key, action)}
    return door.post_json("/v2/enqueue", body, intake=False)


@pytest.fixture
def paging_integration(pagerduty_integration, team):
    pagerduty_integration.escalation_policy = EscalationPolicy.objects.create(team=team, name="Payments")
    pagerduty_integration.save()
    return pagerduty_integration


def test_the_door_answers_once_the_event_is_stored_and_the_intake_applies_it(door, paging_integration):
    response = door.post_json(
        "/v2/enqueue", pagerduty_example("trigger", paging_integration.key), intake=False
    )
    assert response.status_code == 202
    event = AlertEvent.objects.get()
    assert (event.outcome, event.group, event.dedup_key) == ("queued", None, "samplekeyhere")
    assert not AlertGroup.objects.exists()

    assert alert_events_apply_queued() == 1
    event.refresh_from_db()
    group = AlertGroup.objects.get()
    assert (event.outcome, event.group, event.pending) == ("new group", group, None)
    assert group.labels["component"] == "postgres"  # the whole parsed event travelled through the queue
    assert group.first_seen_at == event.received_at  # as of its arrival, not of when it was applied
    assert Escalation.objects.get(group=group).next_step_at == event.received_at
    assert alert_events_apply_queued() == 0  # running it again finds nothing left


def test_a_batch_applies_triggers_resolves_and_retriggers_of_one_key_in_arrival_order(
    door, paging_integration
):
    for key, action in [
        ("db-1", "trigger"),
        ("db-1", "trigger"),
        ("db-2", "trigger"),
        ("db-1", "resolve"),
        ("db-1", "trigger"),
        ("db-2", "trigger"),
        ("db-3", "acknowledge"),
    ]:
        assert _post(door, paging_integration, key, action).status_code == 202
    assert alert_events_apply_queued() == 7

    outcomes = list(AlertEvent.objects.order_by("id").values_list("dedup_key", "outcome"))
    assert outcomes == [
        ("db-1", "new group"),
        ("db-1", "deduplicated"),
        ("db-2", "new group"),
        ("db-1", "resolved"),
        ("db-1", "new group"),
        ("db-2", "deduplicated"),
        ("db-3", "ignored: no open alert with key db-3"),
    ]
    first, second = AlertGroup.objects.filter(dedup_key="db-1").order_by("id")
    assert (first.status, first.occurrences, second.status, second.occurrences) == (
        "resolved",
        2,
        "triggered",
        1,
    )
    assert AlertGroup.objects.get(dedup_key="db-2").occurrences == 2
    assert Escalation.objects.filter(status="active").count() == 2  # db-1's second group and db-2


def test_a_storm_is_applied_in_batches_with_every_repeat_counted(door, paging_integration):
    for n in range(60):
        assert _post(door, paging_integration, f"host-{n % 7}").status_code == 202
    assert alert_events_apply_queued(limit=25) == 60  # three transactions
    counts = dict(AlertGroup.objects.values_list("dedup_key", "occurrences"))
    assert counts == {f"host-{n}": len(range(n, 60, 7)) for n in range(7)}
    assert AlertEvent.objects.filter(outcome="new group").count() == 7
    assert not AlertEvent.objects.filter(pending__isnull=False).exists()
    assert Escalation.objects.count() == 7
    for group in AlertGroup.objects.all():
        assert list(group.log.values_list("kind", flat=True).order_by("id")) == ["triggered", "routed"]


def test_one_event_that_cannot_be_applied_is_marked_failed_and_the_rest_go_on(
    door, paging_integration, caplog
):
    for key in ("a", "b", "c"):
        _post(door, paging_integration, key)
    broken = AlertEvent.objects.get(dedup_key="b")
    broken.pending = {"action": "trigger"}  # written by a version that stored less: unreadable here
    broken.save(update_fields=["pending"])

    with caplog.at_level(logging.ERROR, logger="oncall.intake"):
        assert alert_events_apply_queued() == 3
    assert dict(AlertEvent.objects.values_list("dedup_key", "outcome")) == {
        "a": "new group",
        "b": "failed: TypeError",
        "c": "new group",
    }
    assert set(AlertGroup.objects.values_list("dedup_key", flat=True)) == {"a", "c"}
    assert not AlertEvent.objects.filter(pending__isnull=False).exists()  # never retried forever
    assert "could not be applied" in caplog.text


def test_when_opening_new_alerts_together_fails_they_are_opened_one_by_one(
    door, paging_integration, monkeypatch
):
    for key in ("a", "a", "b"):
        _post(door, paging_integration, key)
    real = alerting.alert_groups_opened

    def fails_for_more_than_one(opened):
        if len(opened) > 1:
            raise RuntimeError("simulated failure of the bulk write")
        return real(opened)

    monkeypatch.setattr(alerting, "alert_groups_opened", fails_for_more_than_one)
    assert alert_events_apply_queued() == 3
    assert list(AlertEvent.objects.order_by("id").values_list("outcome", flat=True)) == [
        "new group",
        "deduplicated",
        "new group",
    ]
    assert dict(AlertGroup.objects.values_list("dedup_key", "occurrences")) == {"a": 2, "b": 1}
    assert Escalation.objects.count() == 2


def test_a_disabled_or_unknown_key_is_refused_and_nothing_is_queued(door, paging_integration):
    paging_integration.enabled = False
    paging_integration.save()
    response = _post(door, paging_integration, "x")
    assert response.status_code == 400
    assert response.json()["errors"] == ["This integration is disabled"]
    assert not AlertEvent.objects.exists()


@pytest.fixture
def rob_paged(paging_integration, rob):
    """Level 1 of the integration's policy pages rob (no rules of his own: push at once by default)."""
    level = EscalationLevel.objects.create(
        policy=paging_integration.escalation_policy, position=0, delay_minutes=5
    )
    EscalationTarget.objects.create(level=level, kind=TargetKind.USER, user=rob)
    return paging_integration


def test_the_intake_task_applies_the_queue_and_takes_the_new_alerts_first_step(door, rob_paged, rob):
    _post(door, rob_paged, "db-1")
    assert tasks.alert_events_apply.apply().get() == 1
    group = AlertGroup.objects.get()
    assert Page.objects.filter(group=group, user=rob).exists()  # paged by the same run, no further hop
    assert Escalation.objects.get(group=group).level_index == 1


@pytest.mark.django_db(transaction=True)
def test_the_doors_commit_starts_the_intake_without_a_worker_in_embedded_mode(door, rob_paged, rob, settings):
    if settings.RUNNING_MODE == "production":
        pytest.skip(
            "production hands the run to the broker; tier 2's e2e workers and live tests take it there"
        )
    assert _post(door, rob_paged, "db-1").status_code == 202
    event = AlertEvent.objects.get()
    assert event.outcome == "new group"
    assert Page.objects.filter(user=rob).exists()  # the first step ran too (push now, email a minute later)
