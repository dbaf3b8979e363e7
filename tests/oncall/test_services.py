"""On-call services (permissions, meaning checks, audit, swaps) and the selector that feeds the engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from oncall import rotation, selectors, services
from oncall.models import ScheduleOverride
from opsportal.core.exceptions import Conflict
from opsportal.core.models import AuditEntry
from opsportal.core.services import SYSTEM

pytestmark = pytest.mark.django_db

START = datetime(2026, 10, 20, 12, tzinfo=UTC)


def engine(schedule) -> rotation.Schedule:
    return selectors.rotation_schedule(selectors.schedules_for_engine().get(pk=schedule.pk))


def test_schedule_create_needs_respond_and_audits(team, vera, rob):
    with pytest.raises(PermissionDenied):
        services.schedule_create(actor=vera, name="X", slug="x", team=team)
    made = services.schedule_create(actor=rob, name="X", slug="x", team=team, time_zone="Europe/Dublin")
    assert made.ical_token and len(made.ical_token) >= 32
    assert AuditEntry.objects.filter(action="oncall.schedule_created", object_id=str(made.pk)).exists()


def test_schedule_create_refuses_unknown_zone(team, rob):
    with pytest.raises(ValidationError):
        services.schedule_create(actor=rob, name="X", slug="x", team=team, time_zone="Mars/Olympus")


def test_layer_create_refuses_bad_restrictions_and_duplicate_position(schedule, rob):
    common = dict(actor=rob, schedule=schedule, participants=[rob], start=date(2026, 1, 1), time_zone="UTC")
    with pytest.raises(ValidationError) as error:
        services.layer_create(
            name="B", restrictions=[{"days": [0], "start": "9am", "end": "17:00"}], **common
        )
    assert "restrictions" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.layer_create(name="B", position=0, **common)
    with pytest.raises(ValidationError):
        services.layer_create(name="C", **{**common, "participants": []})
    layer = services.layer_create(name="B", **common)
    assert layer.position == 1  # on top of the existing layer


def test_layer_update_changes_fields_and_order(schedule, rob, ana):
    layer = schedule.layers.get()
    services.layer_update(actor=rob, layer=layer, participants=[ana, rob], handoff_time=time(10))
    built = engine(schedule).layers[0]
    assert built.rotation.participants == ("ana", "rob")
    assert built.rotation.handoff_time == time(10)
    entry = AuditEntry.objects.get(action="oncall.layer_updated")
    assert entry.before["participants"] == ["rob", "ana"] and entry.after["participants"] == ["ana", "rob"]


def test_override_create_checks_span_and_membership(schedule, rob, ana, charlie, vera):
    with pytest.raises(ValidationError):
        services.override_create(actor=rob, schedule=schedule, user=ana, start=START, end=START)
    with pytest.raises(ValidationError):
        services.override_create(
            actor=rob, schedule=schedule, user=charlie, start=START, end=START + timedelta(hours=1)
        )
    with pytest.raises(PermissionDenied):
        services.override_create(
            actor=vera, schedule=schedule, user=ana, start=START, end=START + timedelta(hours=1)
        )
    override = services.override_create(
        actor=rob, schedule=schedule, user=ana, start=START, end=START + timedelta(hours=8), reason="cover"
    )
    assert override.created_by == rob
    assert AuditEntry.objects.filter(action="oncall.override_created").count() == 1


def test_rotation_schedule_matches_rows(schedule, rob, ana):
    services.override_create(
        actor=rob, schedule=schedule, user=ana, start=START, end=START + timedelta(hours=2)
    )
    built = engine(schedule)
    assert built.layers == (
        rotation.Layer(
            "Toronto",
            rotation.Rotation(
                ("rob", "ana"), rotation.TurnLength(1, "days"), time(9), date(2026, 10, 1), "America/Toronto"
            ),
        ),
    )
    assert built.overrides == (rotation.Override(START, START + timedelta(hours=2), "ana"),)
    assert rotation.on_call_at(built, START + timedelta(hours=1)) == "ana"


def test_higher_position_wins(schedule, rob, ana):
    services.layer_create(
        actor=rob, schedule=schedule, name="Top", participants=[ana], start=date(2026, 1, 1), time_zone="UTC"
    )
    services.layer_create(
        actor=rob,
        schedule=schedule,
        name="Bottom",
        position=5,
        participants=[rob],
        start=date(2026, 1, 1),
        time_zone="UTC",
    )
    # positions: Toronto 0, Top 1, Bottom 5: Bottom is highest and wins everywhere.
    assert [layer.name for layer in engine(schedule).layers] == ["Toronto", "Top", "Bottom"]
    assert rotation.on_call_at(engine(schedule), START) == "rob"


def test_schedules_for_engine_uses_constant_queries(schedule, team, rob, ana, django_assert_num_queries):
    for n in range(5):
        other = services.schedule_create(actor=SYSTEM, name=f"S{n}", slug=f"s{n}", team=team)
        services.layer_create(
            actor=SYSTEM,
            schedule=other,
            name="L",
            participants=[rob, ana],
            start=date(2026, 1, 1),
            time_zone="UTC",
        )
        services.override_create(
            actor=SYSTEM, schedule=other, user=ana, start=START, end=START + timedelta(hours=1)
        )
    with django_assert_num_queries(4):
        built = [selectors.rotation_schedule(s) for s in selectors.schedules_for_engine()]
    assert len(built) == 6


def test_each_listed_schedule_builds_what_the_prefetched_rows_build(
    schedule, team, rob, ana, django_assert_num_queries
):
    services.layer_create(
        actor=rob,
        schedule=schedule,
        name="Weekdays",
        position=3,
        participants=[ana, rob, ana],
        start=date(2026, 1, 1),
        time_zone="Europe/Dublin",
        restrictions=[{"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"}],
    )
    services.override_create(
        actor=rob, schedule=schedule, user=ana, start=START, end=START + timedelta(hours=2)
    )
    services.override_create(
        actor=rob, schedule=schedule, user=rob, start=START - timedelta(days=2), end=START - timedelta(days=1)
    )
    services.schedule_create(actor=SYSTEM, name="Empty", slug="empty", team=team)
    for n in range(4):
        other = services.schedule_create(actor=SYSTEM, name=f"S{n}", slug=f"s{n}", team=team)
        services.layer_create(
            actor=SYSTEM,
            schedule=other,
            name="L",
            participants=[rob, ana][n % 2 :],
            start=date(2026, 1, 1),
            time_zone="Asia/Kolkata",
        )
        services.override_create(
            actor=SYSTEM,
            schedule=other,
            user=ana,
            start=START + timedelta(hours=n),
            end=START + timedelta(days=n + 1),
        )
    rows = list(selectors.schedules_filtered())
    for since in (None, START + timedelta(hours=1)):
        expected, _ = selectors.each_schedule(
            selectors.schedules_for_engine(overrides_ending_after=since).order_by("name", "pk"),
            lambda s, built: (s.slug, built),
        )
        with django_assert_num_queries(3):
            listed, broken = selectors.each_listed_schedule(
                rows, lambda s, built: (s.slug, built), overrides_ending_after=since
            )
        assert listed == expected and broken == []
    assert dict(listed)["empty"] == rotation.Schedule(layers=())
    assert [len(built.overrides) for _, built in listed] == [0, 1, 1, 1, 1, 1]


def test_swap_accept_by_counterpart_creates_override(schedule, rob, ana):
    swap = services.swap_propose(
        actor=rob, schedule=schedule, counterpart=ana, start=START, end=START + timedelta(hours=4)
    )
    with pytest.raises(PermissionDenied):
        services.swap_accept(actor=rob, swap=swap)
    accepted = services.swap_accept(actor=ana, swap=swap)
    assert accepted.status == "accepted"
    override = ScheduleOverride.objects.get()
    assert (override.user, override.start, override.end) == (ana, START, START + timedelta(hours=4))
    assert accepted.override == override
    assert rotation.on_call_at(engine(schedule), START + timedelta(hours=1)) == "ana"
    with pytest.raises(Conflict):
        services.swap_decline(actor=ana, swap=swap)
    assert AuditEntry.objects.filter(action__startswith="oncall.swap_").count() == 2


def test_swap_decline_and_cancel(schedule, rob, ana):
    span = dict(schedule=schedule, start=START, end=START + timedelta(hours=4))
    declined = services.swap_decline(
        actor=ana, swap=services.swap_propose(actor=rob, counterpart=ana, **span)
    )
    assert declined.status == "declined"
    proposed = services.swap_propose(actor=rob, counterpart=ana, **span)
    with pytest.raises(PermissionDenied):
        services.swap_cancel(actor=ana, swap=proposed)
    assert services.swap_cancel(actor=rob, swap=proposed).status == "cancelled"
    assert not ScheduleOverride.objects.exists()


def test_swap_propose_refuses_outsider_and_self(schedule, rob, charlie):
    span = dict(schedule=schedule, start=START, end=START + timedelta(hours=4))
    with pytest.raises(ValidationError):
        services.swap_propose(actor=rob, counterpart=rob, **span)
    with pytest.raises(ValidationError):
        services.swap_propose(actor=rob, counterpart=charlie, **span)


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "right/Europe/Dublin", "Factory", "posix/UTC"])
def test_schedule_create_refuses_zone_files_outside_the_iana_list(team, rob, zone):
    with pytest.raises(ValidationError, match="not an IANA time zone name"):
        services.schedule_create(actor=rob, name="X", slug="x", team=team, time_zone=zone)
