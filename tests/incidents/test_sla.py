"""SLA clock maths: pure functions of timestamps, checked at exact instants. No database, no sleeping."""

from datetime import UTC, datetime, timedelta

from opsportal.incidents.metrics import severity_metrics
from opsportal.incidents.sla import (
    ClockName,
    ClockState,
    IncidentTimes,
    SlaTargets,
    next_crossing,
    sla_clock,
    sla_clocks,
)

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # Black Friday, 09:00 in Toronto
P0 = SlaTargets(detect=timedelta(minutes=1), respond=timedelta(minutes=5), resolve=timedelta(minutes=60))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_running_clock_counts_down_then_warns_at_80_percent_then_breaches():
    times = IncidentTimes(started_at=T0, detected_at=T0)
    states = {m: sla_clock(ClockName.RESOLVE, times, P0, at(m)).state for m in (0, 47.9, 48, 59.99, 60, 90)}
    assert states == {
        0: ClockState.RUNNING,
        47.9: ClockState.RUNNING,
        48: ClockState.WARNING,
        59.99: ClockState.WARNING,
        60: ClockState.BREACHED,
        90: ClockState.BREACHED,
    }
    clock = sla_clock(ClockName.RESOLVE, times, P0, at(12))
    assert clock.elapsed == timedelta(minutes=12)
    assert clock.remaining == timedelta(minutes=48)
    assert clock.warning_at == at(48) and clock.breach_at == at(60)
    assert sla_clock(ClockName.RESOLVE, times, P0, at(75)).remaining == timedelta(minutes=-15)


def test_a_stopped_clock_is_met_or_breached_and_stops_counting():
    met = IncidentTimes(started_at=T0, detected_at=at(0.5), acknowledged_at=at(3), resolved_at=at(40))
    clocks = {c.name: c for c in sla_clocks(met, P0, at(500))}
    assert clocks[ClockName.DETECT].state == ClockState.MET
    assert clocks[ClockName.RESPOND].state == ClockState.MET
    assert clocks[ClockName.RESPOND].elapsed == timedelta(minutes=2.5)
    assert clocks[ClockName.RESOLVE].state == ClockState.MET
    assert clocks[ClockName.RESOLVE].elapsed == timedelta(minutes=40)

    late = IncidentTimes(started_at=T0, detected_at=at(3), acknowledged_at=at(4), resolved_at=at(61))
    clocks = {c.name: c for c in sla_clocks(late, P0, at(500))}
    assert clocks[ClockName.DETECT].state == ClockState.BREACHED
    assert clocks[ClockName.RESOLVE].state == ClockState.BREACHED
    assert not clocks[ClockName.RESOLVE].running


def test_the_respond_clock_waits_for_detection():
    clock = sla_clock(ClockName.RESPOND, IncidentTimes(started_at=T0), P0, at(30))
    assert clock.state == ClockState.PENDING and clock.crossings() == []


def test_crossings_name_each_threshold_passed():
    times = IncidentTimes(started_at=T0, detected_at=T0)
    assert sla_clock(ClockName.RESOLVE, times, P0, at(47)).crossings() == []
    assert sla_clock(ClockName.RESOLVE, times, P0, at(48)).crossings() == ["warning"]
    assert sla_clock(ClockName.RESOLVE, times, P0, at(61)).crossings() == ["warning", "breach"]


def test_changing_severity_retargets_the_same_timestamps():
    p1 = SlaTargets(
        detect=timedelta(minutes=5), respond=timedelta(minutes=15), resolve=timedelta(minutes=240)
    )
    times = IncidentTimes(started_at=T0, detected_at=T0)
    assert sla_clock(ClockName.RESOLVE, times, P0, at(90)).state == ClockState.BREACHED
    assert sla_clock(ClockName.RESOLVE, times, p1, at(90)).state == ClockState.RUNNING


def test_next_crossing_is_the_soonest_warning_or_breach_of_a_running_clock():
    times = IncidentTimes(started_at=T0, detected_at=T0)
    clocks = sla_clocks(times, P0, at(0.5))
    # Detected at T0, so the detect clock is stopped; respond warns at 4 min, resolve at 48.
    assert next_crossing(clocks, at(0.5)) == at(4)
    assert next_crossing(sla_clocks(times, P0, at(4.5)), at(4.5)) == at(5)


def test_metrics_mtta_mttr_and_compliance():
    targets = {"P0": P0}
    incidents = [
        ("P0", IncidentTimes(started_at=T0, detected_at=T0, acknowledged_at=at(2), resolved_at=at(30))),
        ("P0", IncidentTimes(started_at=T0, detected_at=T0, acknowledged_at=at(4), resolved_at=at(90))),
    ]
    [p0] = severity_metrics(incidents, targets, at(1000))
    assert p0.incidents == 2
    assert p0.mtta == timedelta(minutes=3)
    assert p0.mttr == timedelta(minutes=60)
    assert p0.sla_compliance == 0.5 and p0.breaches == 1


def test_metrics_with_no_incidents_say_none_not_zero():
    [p0] = severity_metrics([], {"P0": P0}, T0)
    assert (p0.incidents, p0.mtta, p0.mttr, p0.sla_compliance) == (0, None, None, None)
