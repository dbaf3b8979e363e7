"""The escalation engine, walked with frozen time: levels, waits, repeats, acknowledgements racing steps,
ack timeouts and snoozes, local-time conditions across a DST change, snapshots, support hours, dry runs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from oncall.alerting import (
    alert_events_ingest,
    alert_group_acknowledge,
    alert_group_escalate,
    alert_group_resolve,
    alert_group_snooze,
)
from oncall.engine import escalation_dry_run, escalations_run_due
from oncall.models import (
    AlertGroup,
    ContactMethod,
    Escalation,
    EscalationLevel,
    EscalationTarget,
    Page,
    Region,
    TargetKind,
)
from opsportal.notifications.models import Delivery

# Black Friday: 09:00 in Toronto, the Toronto layer's handoff; rob's turn started on 2026-10-01.
T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db
# Nobody here has notification rules, so each person gets the default (oncall.paging.DEFAULT_PLAN): a push at
# once and an email a minute later. Counts of pages per step count the push.


def _paged(group) -> list[tuple[int, str]]:
    """(step, username) of every page written, in order."""
    return list(
        Page.objects.filter(group=group)
        .order_by("step", "user__username")
        .values_list("step", "user__username")
        .distinct()
    )


def _start(integration, trigger, **kw):
    alert_events_ingest(integration=integration, events=[trigger(**kw)], now=T0)
    return AlertGroup.objects.get()


def _on_call_at_t0(schedule):
    from oncall import rotation
    from oncall.selectors import rotation_schedule, schedule_for_engine_or_404

    return rotation.on_call_at(rotation_schedule(schedule_for_engine_or_404(schedule.slug)), T0)


def test_engine_walks_levels_then_repeats_then_stops(integration, trigger, schedule):
    group = _start(integration, trigger)
    primary = _on_call_at_t0(schedule)
    assert escalations_run_due(now=T0) == 1
    assert _paged(group) == [(1, primary)]
    assert escalations_run_due(now=T0 + timedelta(minutes=4)) == 0  # still waiting for an ack
    escalations_run_due(now=T0 + timedelta(minutes=5))
    assert _paged(group)[-1] == (2, "irene")
    escalations_run_due(now=T0 + timedelta(minutes=15))  # repeat from level 1
    escalations_run_due(now=T0 + timedelta(minutes=20))
    assert [step for step, _ in _paged(group)] == [1, 2, 3, 4]
    escalations_run_due(now=T0 + timedelta(minutes=30))
    escalation = Escalation.objects.get(group=group)
    assert escalation.status == "done"
    assert group.log.filter(kind="escalation_done").count() == 1
    escalations_run_due(now=T0 + timedelta(hours=2))
    assert len(_paged(group)) == 4


def test_engine_running_a_due_step_twice_pages_once(integration, trigger):
    group = _start(integration, trigger)
    escalations_run_due(now=T0)
    escalations_run_due(now=T0)
    escalations_run_due(now=T0 + timedelta(seconds=30))
    assert Page.objects.filter(group=group, contact_method__kind="push").count() == 1
    assert Delivery.objects.count() == 1


def test_engine_nobody_is_paged_after_an_acknowledgement_commits(integration, trigger, rob):
    group = _start(integration, trigger)
    escalations_run_due(now=T0)
    alert_group_acknowledge(actor=rob, group=group, now=T0 + timedelta(minutes=1))
    escalations_run_due(now=T0 + timedelta(minutes=5))
    escalations_run_due(now=T0 + timedelta(hours=1))
    assert Page.objects.filter(group=group, contact_method__kind="push").count() == 1
    assert Escalation.objects.get(group=group).status == "stopped"


def test_engine_acknowledgement_cancels_pages_and_outbox_rows_not_yet_sent(integration, trigger, rob):
    group = _start(integration, trigger)
    escalations_run_due(now=T0)
    delivery = Page.objects.get(group=group, contact_method__kind="push").delivery
    Delivery.objects.filter(pk=delivery.pk).update(status="pending")
    Page.objects.create(group=group, user=rob, due_at=T0 + timedelta(minutes=2), step=1, dedupe_key="later")
    alert_group_acknowledge(actor=rob, group=group, now=T0 + timedelta(minutes=1))
    assert Delivery.objects.get(pk=delivery.pk).status == "cancelled"
    assert Page.objects.get(dedupe_key="later").status == "cancelled"


def test_engine_ack_timeout_triggers_the_group_again_from_the_first_level(
    integration, trigger, rob, schedule
):
    integration.ack_timeout = timedelta(minutes=30)
    integration.save()
    group = _start(integration, trigger)
    escalations_run_due(now=T0)
    alert_group_acknowledge(actor=rob, group=group, now=T0 + timedelta(minutes=2))
    escalations_run_due(now=T0 + timedelta(minutes=31))
    assert AlertGroup.objects.get().status == "acknowledged"
    escalations_run_due(now=T0 + timedelta(minutes=32))
    group.refresh_from_db()
    assert group.status == "triggered"
    assert group.log.filter(kind="retriggered").exists()
    assert _paged(group)[-1] == (2, _on_call_at_t0(schedule))


def test_engine_snooze_pages_again_when_it_ends(integration, trigger, rob):
    group = _start(integration, trigger)
    escalations_run_due(now=T0)
    alert_group_snooze(actor=rob, group=group, until=T0 + timedelta(hours=1), now=T0 + timedelta(minutes=1))
    escalations_run_due(now=T0 + timedelta(minutes=59))
    assert Page.objects.filter(group=group, contact_method__kind="push").count() == 1
    escalations_run_due(now=T0 + timedelta(hours=1))
    assert Page.objects.filter(group=group, contact_method__kind="push").count() == 2


def test_engine_escalate_by_hand_pages_the_next_level_now(integration, trigger, rob):
    group = _start(integration, trigger)
    escalations_run_due(now=T0)
    alert_group_escalate(actor=rob, group=group, now=T0 + timedelta(minutes=1))
    escalations_run_due(now=T0 + timedelta(minutes=1))
    assert _paged(group)[-1] == (2, "irene")


def test_engine_resolved_group_stops_paging(integration, trigger, rob):
    group = _start(integration, trigger)
    escalations_run_due(now=T0)
    alert_group_resolve(actor=rob, group=group, now=T0 + timedelta(minutes=1))
    escalations_run_due(now=T0 + timedelta(minutes=10))
    assert Page.objects.filter(group=group, contact_method__kind="push").count() == 1


def test_engine_policy_edits_do_not_change_a_running_escalation(integration, trigger, policy, alice):
    group = _start(integration, trigger)
    escalations_run_due(now=T0)
    second = policy.levels.get(position=1)
    second.targets.update(user=alice)
    assert escalations_run_due(now=T0 + timedelta(minutes=5)) == 1
    assert _paged(group)[-1] == (2, "irene")


def test_engine_level_for_p0_only_is_skipped_for_a_warning(integration, trigger, policy, alice):
    exec_tier = EscalationLevel.objects.create(policy=policy, position=2, delay_minutes=5, severities=["P0"])
    EscalationTarget.objects.create(level=exec_tier, kind=TargetKind.USER, user=alice)
    policy.repeat = 0
    policy.save()
    group = _start(integration, trigger, severity="warning")
    for minutes in (0, 5, 15, 20):
        escalations_run_due(now=T0 + timedelta(minutes=minutes))
    assert "alice" not in [name for _, name in _paged(group)]
    assert group.log.filter(text__contains="applies only to P0").exists()


def test_engine_local_time_condition_skips_people_at_night_in_their_own_zone_across_dst(
    team, integration, trigger, policy, make_staff
):
    """The EU responder is paged only between 07:00 and 22:00 in Dublin; the condition follows Dublin's clocks
    across the change from summer time (25 October 2026)."""
    dara = make_staff("dara", "responder", time_zone="Europe/Dublin")
    policy.levels.all().delete()
    level = EscalationLevel.objects.create(
        policy=policy,
        position=0,
        delay_minutes=5,
        time_condition={"zone": "target", "start": "07:00", "end": "22:00", "when": "inside"},
    )
    EscalationTarget.objects.create(level=level, kind=TargetKind.USER, user=dara)
    policy.repeat = 0
    policy.save()
    cases = [
        (datetime(2026, 10, 24, 6, 30, tzinfo=UTC), True),  # 07:30 IST (UTC+1): day
        (datetime(2026, 10, 24, 5, 30, tzinfo=UTC), False),  # 06:30 IST: night
        (datetime(2026, 10, 26, 6, 30, tzinfo=UTC), False),  # 06:30 GMT: night after the change
        (datetime(2026, 10, 26, 7, 30, tzinfo=UTC), True),  # 07:30 GMT
        (datetime(2026, 10, 26, 21, 59, tzinfo=UTC), True),  # 21:59 GMT
        (datetime(2026, 10, 26, 22, 0, tzinfo=UTC), False),
    ]
    for number, (instant, paged) in enumerate(cases):
        alert_events_ingest(integration=integration, events=[trigger(f"k{number}")], now=instant)
        group = AlertGroup.objects.get(dedup_key=f"k{number}")
        escalations_run_due(now=instant)
        assert Page.objects.filter(group=group, user=dara).exists() is paged, instant


def test_engine_region_condition_hands_night_alerts_to_the_next_region(
    team, integration, trigger, policy, rob, ana
):
    """Follow the sun: EU pages ana in EU business hours; outside them (night in Dublin) NA's rob is paged."""
    policy.levels.all().delete()
    eu = EscalationLevel.objects.create(
        policy=policy,
        position=0,
        delay_minutes=5,
        time_condition={"zone": "region:EU", "start": "08:00", "end": "20:00"},
    )
    EscalationTarget.objects.create(level=eu, kind=TargetKind.USER, user=ana)
    na = EscalationLevel.objects.create(
        policy=policy,
        position=1,
        delay_minutes=5,
        time_condition={"zone": "region:EU", "start": "08:00", "end": "20:00", "when": "outside"},
    )
    EscalationTarget.objects.create(level=na, kind=TargetKind.USER, user=rob)
    policy.repeat = 0
    policy.save()
    day, night = datetime(2026, 12, 1, 10, 0, tzinfo=UTC), datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    alert_events_ingest(integration=integration, events=[trigger("day")], now=day)
    escalations_run_due(now=day)
    assert _paged(AlertGroup.objects.get(dedup_key="day")) == [(1, "ana")]
    alert_events_ingest(integration=integration, events=[trigger("night")], now=night)
    escalations_run_due(now=night)
    assert _paged(AlertGroup.objects.get(dedup_key="night")) == [(1, "rob")]


def test_engine_round_robin_pages_one_person_per_alert_in_turn(integration, trigger, policy, rob, ana, irene):
    policy.levels.all().delete()
    level = EscalationLevel.objects.create(policy=policy, position=0, delay_minutes=5, round_robin=True)
    for position, user in enumerate((rob, ana, irene)):
        EscalationTarget.objects.create(level=level, position=position, kind=TargetKind.USER, user=user)
    policy.repeat = 0
    policy.save()
    for number in range(4):
        alert_events_ingest(integration=integration, events=[trigger(f"rr{number}")], now=T0)
        escalations_run_due(now=T0)
    order = [
        Page.objects.get(group__dedup_key=f"rr{number}", contact_method__kind="push").user.username
        for number in range(4)
    ]
    assert order == ["rob", "ana", "irene", "rob"]


def test_engine_low_urgency_waits_for_the_teams_support_hours(team, integration, trigger, schedule):
    team.support_region = Region.objects.get(code="EU")
    team.save()
    integration.urgency = "low"
    integration.save()
    saturday_night = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    alert_events_ingest(integration=integration, events=[trigger()], now=saturday_night)
    group = AlertGroup.objects.get()
    assert escalations_run_due(now=saturday_night) == 0
    monday_nine_dublin = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert Escalation.objects.get(group=group).next_step_at == monday_nine_dublin
    assert escalations_run_due(now=monday_nine_dublin) == 1


def test_engine_many_repeats_are_allowed(integration, trigger, policy):
    policy.repeat = 50
    policy.save()
    group = _start(integration, trigger)
    instant = T0
    for _ in range(40):
        escalations_run_due(now=instant)
        instant += timedelta(minutes=10)
    assert Page.objects.filter(group=group).values("step").distinct().count() == 40


def test_dry_run_shows_what_the_engine_then_does(integration, trigger, policy, schedule):
    plan = escalation_dry_run(policy=policy, severity="P0", urgency="high", at=T0)
    assert [(s.level, s.pass_number, s.targets, s.at) for s in plan] == [
        (1, 1, [_on_call_at_t0(schedule)], T0),
        (2, 1, ["irene"], T0 + timedelta(minutes=5)),
        (1, 2, [_on_call_at_t0(schedule)], T0 + timedelta(minutes=15)),
        (2, 2, ["irene"], T0 + timedelta(minutes=20)),
    ]
    group = _start(integration, trigger)
    for step in plan:
        escalations_run_due(now=step.at)
    assert [name for _, name in _paged(group)] == [name for step in plan for name in step.targets]


def test_dry_run_says_how_people_without_rules_are_paged_and_creates_nothing(policy, irene):
    irene.email = "irene@ops.example.com"
    irene.save()
    before = ContactMethod.objects.count()
    plan = escalation_dry_run(policy=policy, severity="P0", urgency="high", at=T0)
    second = next(step for step in plan if step.level == 2)
    assert second.people[0].how == ["In-app push now (default)", "Email after 1 min (default)"]
    assert ContactMethod.objects.count() == before  # a preview writes nothing

    paused = ContactMethod.objects.create(user=irene, kind="email", address=irene.email, enabled=False)
    plan = escalation_dry_run(policy=policy, severity="P0", urgency="high", at=T0)
    assert next(step for step in plan if step.level == 2).people[0].how == ["In-app push now (default)"]
    paused.refresh_from_db()
    assert paused.enabled is False  # her pause is respected, as paging respects it


def test_dry_run_low_urgency_starts_at_support_hours(team, policy):
    team.support_region = Region.objects.get(code="NA")
    team.save()
    Region.objects.filter(code="NA").update(business_day_start=time(9), business_day_end=time(17))
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    plan = escalation_dry_run(policy=policy, severity="P2", urgency="low", at=sunday)
    assert plan[0].at == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 09:00 Monday in Toronto


def test_engine_one_broken_escalation_never_holds_up_the_others(integration, trigger):
    for key in ("good-1", "broken", "good-2"):
        alert_events_ingest(integration=integration, events=[trigger(key)], now=T0)
    Escalation.objects.filter(group__dedup_key="broken").update(snapshot={"levels": [{"targets": "garbage"}]})
    escalations_run_due(now=T0)
    paged = set(Page.objects.values_list("group__dedup_key", flat=True))
    assert paged == {"good-1", "good-2"}
    broken = Escalation.objects.get(group__dedup_key="broken")
    assert broken.status == "active" and broken.next_step_at > T0  # set aside, tried again later


def test_new_alerts_queue_one_tick_while_one_waits_to_start(
    integration, trigger, django_capture_on_commit_callbacks, settings
):
    """A storm of new alerts asks for a tick on commit, but never queues a second one while the first has not
    started: that one claims only after it starts, so it sees them all."""
    from django.core.cache import cache

    from oncall.tasks import TICK_QUEUED

    settings.RUNNING_MODE = "embedded"  # with no embedded worker running, a started tick runs inline
    cache.set(TICK_QUEUED, 1)  # a tick is queued, not started yet
    with django_capture_on_commit_callbacks(execute=True):
        alert_events_ingest(integration=integration, events=[trigger("a")])
    assert not Page.objects.exists()  # nothing started a second tick
    cache.delete(TICK_QUEUED)  # the queued tick starts …
    with django_capture_on_commit_callbacks(execute=True):
        alert_events_ingest(integration=integration, events=[trigger("b")])
    # … and the next commit starts one (inline here, with no worker running), which pages both alerts.
    assert set(Page.objects.values_list("group__dedup_key", flat=True)) == {"a", "b"}


def test_a_tick_that_reaches_its_limit_starts_the_next_one_at_once(
    integration, trigger, monkeypatch, django_capture_on_commit_callbacks, settings
):
    from oncall import tasks

    if settings.RUNNING_MODE == "production":
        pytest.skip("production hands the next tick to the broker; this follows it where it runs inline")

    for key in ("a", "b", "c", "d", "e"):
        alert_events_ingest(integration=integration, events=[trigger(key)], now=T0)
    monkeypatch.setattr(tasks, "TICK_STEPS", 2)
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert tasks.escalations_tick.apply().get() == 2
    # Without a worker the requested ticks ran inline, one after another, until the backlog was gone.
    assert set(Page.objects.values_list("group__dedup_key", flat=True)) == {"a", "b", "c", "d", "e"}
