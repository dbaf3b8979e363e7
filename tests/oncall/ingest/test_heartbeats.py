"""Heartbeats: configure (period + grace, or cron in a time zone), ping URLs in healthchecks' style, and the
sweep that raises the late alert; the next good ping resolves it. Time is frozen, never slept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from oncall import heartbeats
from oncall.models import AlertGroup, Heartbeat, IntegrationKind
from oncall.tasks import heartbeats_sweep as sweep_task
from opsportal.core.services import SYSTEM

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def hourly(heartbeat_integration):
    return heartbeats.heartbeat_configure(
        actor=SYSTEM, integration=heartbeat_integration, period=timedelta(hours=1), grace=timedelta(minutes=5)
    )


def _group():
    return AlertGroup.objects.get(dedup_key__startswith="heartbeat:")


def test_heartbeat_late_raises_the_alert_and_a_good_ping_resolves_it(hourly):
    assert heartbeats.heartbeats_sweep(now=T0) == 0  # never pinged: nothing to be late for yet
    heartbeats.heartbeat_ping(heartbeat=hourly, kind="success", now=T0)
    hourly.refresh_from_db()
    assert (hourly.status, hourly.alert_at) == ("up", T0 + timedelta(hours=1, minutes=5))
    assert heartbeats.heartbeats_sweep(now=T0 + timedelta(hours=1, minutes=4)) == 0
    assert heartbeats.heartbeats_sweep(now=T0 + timedelta(hours=1, minutes=6)) == 1
    assert heartbeats.heartbeats_sweep(now=T0 + timedelta(hours=1, minutes=7)) == 0  # raised once
    group = _group()
    assert group.dedup_key == f"heartbeat:{hourly.pk}"
    assert group.status == "triggered" and "is late" in group.summary
    hourly.refresh_from_db()
    assert hourly.status == "late"
    heartbeats.heartbeat_ping(heartbeat=hourly, kind="success", now=T0 + timedelta(hours=2))
    group.refresh_from_db()
    assert group.status == "resolved"
    hourly.refresh_from_db()
    assert (hourly.status, hourly.alert_at) == ("up", T0 + timedelta(hours=3, minutes=5))


def test_heartbeat_failure_ping_raises_at_once_and_exit_zero_resolves(hourly):
    heartbeats.heartbeat_ping(heartbeat=hourly, kind="success", exit_status=3, now=T0)
    group = _group()
    assert group.status == "triggered"
    assert group.summary.endswith("reported failure (exit status 3)")
    hourly.refresh_from_db()
    assert (hourly.status, hourly.last_exit_status, hourly.alert_at) == ("failed", 3, None)
    assert heartbeats.heartbeats_sweep(now=T0 + timedelta(days=1)) == 0  # already raised
    heartbeats.heartbeat_ping(heartbeat=hourly, kind="fail", exit_status=0, now=T0 + timedelta(minutes=1))
    group.refresh_from_db()
    assert group.status == "resolved"


def test_heartbeat_started_job_must_finish_within_the_grace(hourly):
    heartbeats.heartbeat_ping(heartbeat=hourly, kind="success", now=T0)
    heartbeats.heartbeat_ping(heartbeat=hourly, kind="start", now=T0 + timedelta(minutes=30))
    hourly.refresh_from_db()
    assert (hourly.status, hourly.alert_at) == ("started", T0 + timedelta(minutes=35))
    assert heartbeats.heartbeats_sweep(now=T0 + timedelta(minutes=36)) == 1
    assert "did not finish in time" in _group().summary


def test_heartbeat_cron_in_new_york_across_the_dst_change(heartbeat_integration):
    # 02:30 every night, New York time, 10 minutes' grace. On 8 March 2026 02:30 does not exist.
    heartbeat = heartbeats.heartbeat_configure(
        actor=SYSTEM,
        integration=heartbeat_integration,
        grace=timedelta(minutes=10),
        cron="30 2 * * *",
        time_zone="America/New_York",
    )
    zone = ZoneInfo("America/New_York")
    heartbeats.heartbeat_ping(
        heartbeat=heartbeat, kind="success", now=datetime(2026, 3, 7, 2, 31, tzinfo=zone)
    )
    heartbeat.refresh_from_db()
    assert heartbeat.alert_at == datetime(2026, 3, 8, 3, 10, tzinfo=zone)
    heartbeats.heartbeat_ping(
        heartbeat=heartbeat, kind="success", now=datetime(2026, 3, 8, 3, 1, tzinfo=zone)
    )
    heartbeat.refresh_from_db()
    # The next night runs at 02:30 EDT: 06:30 UTC, an hour earlier in UTC than before the change.
    assert heartbeat.alert_at == datetime(2026, 3, 9, 6, 40, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 3, 9, 6, 39, tzinfo=UTC), tick=False):
        assert sweep_task() == 0
    with time_machine.travel(datetime(2026, 3, 9, 6, 41, tzinfo=UTC), tick=False):
        assert sweep_task() == 1
    assert _group().status == "triggered"


def test_heartbeat_configure_checks_meaning(heartbeat_integration, make_integration, vera):
    ok = {"integration": heartbeat_integration, "grace": timedelta(minutes=5)}
    with pytest.raises(ValidationError, match="either a period or a cron"):
        heartbeats.heartbeat_configure(actor=SYSTEM, **ok)
    with pytest.raises(ValidationError, match="either a period or a cron"):
        heartbeats.heartbeat_configure(actor=SYSTEM, period=timedelta(hours=1), cron="0 * * * *", **ok)
    with pytest.raises(ValidationError, match="Bad minute"):
        heartbeats.heartbeat_configure(actor=SYSTEM, cron="61 * * * *", **ok)
    with pytest.raises(ValidationError, match="IANA"):
        heartbeats.heartbeat_configure(actor=SYSTEM, cron="0 * * * *", time_zone="Mars/Olympus", **ok)
    with pytest.raises(ValidationError, match="duration"):
        heartbeats.heartbeat_configure(actor=SYSTEM, period=timedelta(seconds=5), **ok)
    with pytest.raises(ValidationError, match="duration"):
        heartbeats.heartbeat_configure(actor=SYSTEM, period=timedelta(days=9999), **ok)
    with pytest.raises(ValidationError, match="Only a heartbeat integration"):
        heartbeats.heartbeat_configure(
            actor=SYSTEM,
            integration=make_integration(IntegrationKind.GENERIC),
            period=timedelta(hours=1),
            grace=timedelta(minutes=5),
        )
    with pytest.raises(PermissionDenied):
        heartbeats.heartbeat_configure(actor=vera, period=timedelta(hours=1), **ok)
    assert not Heartbeat.objects.exists()


def test_heartbeat_reconfigure_moves_the_deadline(hourly):
    heartbeats.heartbeat_ping(heartbeat=hourly, kind="success", now=T0)
    heartbeats.heartbeat_configure(
        actor=SYSTEM, integration=hourly.integration, period=timedelta(hours=6), grace=timedelta(minutes=30)
    )
    hourly.refresh_from_db()
    assert hourly.alert_at == T0 + timedelta(hours=6, minutes=30)


# --- the ping URLs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "head", "post"])
def test_ping_url_answers_ok_and_arms_the_heartbeat(door, hourly, method):
    response = getattr(door, method)(f"/ping/{hourly.integration.key}")
    assert response.status_code == 200
    if method != "head":
        assert response.content == b"OK"
    hourly.refresh_from_db()
    assert hourly.status == "up" and hourly.last_ping_at is not None


@pytest.mark.parametrize(
    ("suffix", "status", "exit_status"),
    [
        ("/start", "started", None),
        ("/fail", "failed", None),
        ("/0", "up", 0),
        ("/1", "failed", 1),
        ("/255", "failed", 255),
    ],
)
def test_ping_url_kinds(door, hourly, suffix, status, exit_status):
    response = door.get(f"/ping/{hourly.integration.key}{suffix}")
    assert (response.status_code, response.content) == (200, b"OK")
    hourly.refresh_from_db()
    assert hourly.status == status
    if suffix != "/start":
        assert hourly.last_exit_status == exit_status
    assert AlertGroup.objects.filter(status="triggered").count() == (1 if status == "failed" else 0)


def test_ping_url_refusals(door, hourly, make_integration):
    key = hourly.integration.key
    assert (door.get("/ping/" + "0" * 32).status_code, door.get("/ping/" + "0" * 32).content) == (
        404,
        b"not found",
    )
    assert door.get(f"/ping/{key}/256").status_code == 400
    assert door.get(f"/ping/{key}/1000").status_code == 404
    assert door.get(f"/ping/{key}/explode").status_code == 404
    assert door.put(f"/ping/{key}").status_code == 405
    generic = make_integration(IntegrationKind.GENERIC)
    assert door.get(f"/ping/{generic.key}").status_code == 404
    hourly.integration.enabled = False
    hourly.integration.save()
    assert door.get(f"/ping/{key}").status_code == 403
    hourly.refresh_from_db()
    assert hourly.last_ping_at is None


def test_heartbeats_sweep_is_a_periodic_task(settings):
    assert settings.PERIODIC_TASKS["heartbeats-sweep"] == ("oncall.tasks.heartbeats_sweep", 10.0)
