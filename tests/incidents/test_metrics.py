"""Response metrics: the database's aggregation (incident_metrics) agrees with the pure definition
(severity_metrics over every incident), case by case and on a year of random incidents."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from opsportal.incidents.metrics import severity_metrics
from opsportal.incidents.models import Incident, SeverityPolicy
from opsportal.incidents.selectors import incident_metrics

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
YEAR = (datetime(2025, 6, 1, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC))
BERLIN = ZoneInfo("Europe/Berlin")


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def make(severity: str, started_at: datetime, *, status: str = "resolved", **times) -> Incident:
    """A hand-built incident: times given as minutes after its start (None: has not happened)."""
    started_at = started_at.astimezone(UTC)  # instants, as the services store them
    fields = {}
    for name in ("detected_at", "acknowledged_at", "mitigated_at", "resolved_at"):
        offset = times.get(name.removesuffix("_at"))
        fields[name] = None if offset is None else started_at + minutes(offset)
    if fields["detected_at"] is None:
        fields["detected_at"] = started_at
    return Incident.objects.create(
        title="t", public_title="t", severity=severity, status=status, started_at=started_at, **fields
    )


def the_old_way(since: datetime, until: datetime, now: datetime):
    """What the page computed before issue 11: every incident loaded, clocks run in Python."""
    incidents = Incident.objects.filter(started_at__gte=since, started_at__lt=until).exclude(
        status__in=["declined", "merged"]
    )
    targets = {p.severity: p.targets for p in SeverityPolicy.objects.all()}
    return severity_metrics([(i.severity, i.times) for i in incidents], targets, now)


def assert_agree(since: datetime, until: datetime, now: datetime = NOW) -> list:
    old = the_old_way(since, until, now)
    new = incident_metrics(since=since, until=until, now=now)
    assert [m.severity for m in new] == [m.severity for m in old]
    for a, b in zip(old, new, strict=True):
        assert (a.severity, a.incidents, a.breaches) == (b.severity, b.incidents, b.breaches)
        assert (
            a.sla_compliance == pytest.approx(b.sla_compliance)
            if a.sla_compliance is not None
            else (b.sla_compliance is None)
        ), a.severity
        for mean in ("mtta", "mttr"):
            x, y = getattr(a, mean), getattr(b, mean)
            # Means of microseconds: the database may round the last microsecond the other way.
            assert (x is None) == (y is None), (a.severity, mean)
            if x is not None:
                assert abs(x - y) <= timedelta(milliseconds=1), (a.severity, mean, x, y)
    return new


@pytest.fixture
def targets(db):
    # Detect 5 min, respond 15, resolve 60 for P1; P2 has a zero detect target (breached as soon as it starts).
    SeverityPolicy.objects.filter(severity="P1").update(
        detect_minutes=5, respond_minutes=15, resolve_minutes=60
    )
    SeverityPolicy.objects.filter(severity="P2").update(
        detect_minutes=0, respond_minutes=30, resolve_minutes=240
    )


def test_metrics_agree_on_met_breached_unacknowledged_and_reopened_incidents(targets):
    start = NOW - timedelta(days=10)
    make("P1", start, detected=1, acknowledged=5, resolved=30)  # every clock met
    make("P1", start + minutes(1), detected=10, acknowledged=12, resolved=50)  # detect breached
    make("P1", start + minutes(2), detected=1, acknowledged=20, resolved=59)  # respond breached, stopped
    make("P1", start + minutes(3), detected=1, acknowledged=None, resolved=30)  # never acknowledged, resolved
    make(
        "P1", start + minutes(4), status="investigating", detected=1
    )  # unacknowledged, running: breached now
    # Reopened: resolved once, then the clocks run again (resolved_at cleared, as the service does).
    make("P1", start + minutes(5), status="investigating", detected=1, acknowledged=3)
    make("P1", NOW - minutes(2), status="investigating", detected=0)  # running, not yet breached: not judged
    make("P1", NOW - minutes(20), status="identified", detected=0, acknowledged=1)  # running within targets
    make("P1", start, status="declined", detected=1)  # left out
    make("P1", start, status="merged", detected=1)  # left out
    make("P2", start, detected=0, acknowledged=10, resolved=100)  # zero detect target: breached
    make("P3", start, detected=2, acknowledged=3, mitigated=4, resolved=5)
    make("P4", start + timedelta(days=30))  # after the period
    rows = {m.severity: m for m in assert_agree(NOW - timedelta(days=20), NOW + timedelta(days=1))}
    assert rows["P1"].incidents == 8
    assert rows["P1"].breaches == 5
    assert rows["P2"].breaches == 1
    assert rows["P4"].incidents == 0


def test_metrics_agree_when_the_period_has_no_incidents(targets):
    make("P1", NOW - timedelta(days=400), detected=1, acknowledged=2, resolved=3)
    rows = assert_agree(NOW - timedelta(days=30), NOW)
    assert all(m.incidents == 0 and m.mtta is None and m.sla_compliance is None for m in rows)


def test_metrics_agree_across_daylight_saving_changes(targets):
    # Incidents that start before and run across Berlin's spring-forward and fall-back nights: durations are
    # instants apart, not wall-clock differences, and the period's bounds cut at instants.
    spring = datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)  # clocks go 02:00 -> 03:00
    autumn = datetime(2025, 10, 26, 2, 30, tzinfo=BERLIN, fold=0)  # 03:00 -> 02:00, the first 02:30
    for start in (spring, autumn, autumn.astimezone(UTC) + timedelta(hours=1)):  # the second 02:30
        make("P1", start, detected=2, acknowledged=70, resolved=125)
        make("P2", start, detected=0, acknowledged=20, resolved=200)
    since = datetime(2025, 10, 26, 2, 45, tzinfo=BERLIN, fold=0)  # the first 02:45: between the two 02:30s
    rows = {m.severity: m for m in assert_agree(since, datetime(2026, 3, 29, 3, 31, tzinfo=BERLIN))}
    assert rows["P1"].incidents == 2
    assert rows["P1"].mttr == minutes(125)
    assert rows["P1"].mtta == minutes(68)


def test_metrics_agree_on_a_year_of_random_incidents(targets):
    rng = random.Random(11)
    for _ in range(300):
        start = YEAR[0] + timedelta(minutes=rng.randrange(0, 366 * 24 * 60))
        detect = rng.choice([0, 1, 4, 5, 6, 30])
        ack = rng.choice([None, detect + rng.randrange(0, 40)])
        resolved = rng.choice([None, detect + rng.randrange(0, 600)])
        status = "resolved" if resolved is not None else rng.choice(["triage", "investigating", "monitoring"])
        make(
            rng.choice("01234").join(["P", ""]),
            start,
            status=status,
            detected=detect,
            acknowledged=ack,
            resolved=resolved,
        )
    for now in (NOW, NOW + timedelta(days=40)):
        rows = assert_agree(*YEAR, now=now)
        assert sum(m.incidents for m in rows) == 300


def test_metrics_page_shows_the_aggregated_numbers(targets, personas, client_for):
    start = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    make("P1", start, detected=1, acknowledged=11, resolved=59)
    make("P1", start + minutes(5), detected=1, acknowledged=21, resolved=181)
    response = client_for(personas["viewer"]).get(
        reverse("portal:metrics"), {"period": "custom", "since": "2026-01-01", "until": "2026-01-31"}
    )
    row = response.content.decode().split('<th scope="row">P1</th>')[1].split("</tr>")[0]
    # Two incidents, MTTA 15 min, MTTR (59 + 181) / 2 = 120 min = 2.0 h, one breach of two judged.
    assert row == "<td>2</td><td>15 min</td><td>2.0 h</td><td>50%</td><td>1</td>"
