"""The on-call board and /api/v1/oncall/ at 500 follow-the-sun schedules (issue 11), timed in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsportal_onc_bench DEBUG=1 \\
        python bench/oncall_scale.py [ROUNDS]

Loads the demo (regions, staff, its own small teams and schedules) into the database if it is empty, then adds 100
teams of 12 drawn from 400 engineers (four per region), 5 schedules per team with an APAC, an EU and a NA layer
(weekly turns, restricted to each region's part of the day) and overrides on every third schedule. Then times, with
Django's test Client in this process, each path ROUNDS times (default 30) after two warm-up requests, and prints
p50/p99 of wall time and p50 of this process's CPU time (the database's share is not in it; on a shared machine
the CPU time says what the code costs, the wall time what a user waited), the body size and the query count.
/healthz, the regions list and one demo team's answers are timed in the same run as the reference, since the
machine is noisy.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections, connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

TEAMS, SCHEDULES_PER_TEAM, ENGINEERS, PER_REGION_IN_TEAM = 100, 5, 400, 4
WINDOWS = {  # the demo's follow-the-sun windows, in each region's zone
    "APAC": [{"days": list(range(7)), "start": "07:00", "end": "16:00"}],
    "EU": [{"days": list(range(7)), "start": "08:00", "end": "17:00"}],
    "NA": [{"days": list(range(7)), "start": "11:00", "end": "19:00"}],
}


def seed() -> None:
    from oncall.models import (
        LayerParticipant,
        Region,
        Schedule,
        ScheduleLayer,
        ScheduleOverride,
        Team,
        TeamMembership,
    )
    from opsportal.demo.data import demo_load

    if Team.objects.filter(slug="bench-team-0").exists():
        return
    started = time.perf_counter()
    demo_load()
    regions = {region.code: region for region in Region.objects.all()}
    codes = sorted(WINDOWS)
    User = get_user_model()
    with transaction.atomic():
        engineers = User.objects.bulk_create(
            User(username=f"eng{i:03d}", first_name="Eng", last_name=f"{i:03d}") for i in range(ENGINEERS)
        )
        region_of = {user.pk: codes[i % len(codes)] for i, user in enumerate(engineers)}
        by_region = {code: [u for u in engineers if region_of[u.pk] == code] for code in codes}
        teams = Team.objects.bulk_create(
            Team(name=f"Bench team {t:03d}", slug=f"bench-team-{t}") for t in range(TEAMS)
        )
        members, schedules, layer_people = [], [], []
        for t, team in enumerate(teams):
            people = {
                code: [pool[(t * PER_REGION_IN_TEAM + k) % len(pool)] for k in range(PER_REGION_IN_TEAM)]
                for code, pool in by_region.items()
            }
            members += [
                TeamMembership(team=team, user=user, region=regions[code])
                for code, users in people.items()
                for user in users
            ]
            for n in range(SCHEDULES_PER_TEAM):
                schedules.append(Schedule(name=f"{team.name} service {n}", slug=f"bench-{t}-{n}", team=team))
                layer_people.append(people)
        TeamMembership.objects.bulk_create(members)
        schedules = Schedule.objects.bulk_create(schedules)
        layers, places = [], []
        for s, schedule in enumerate(schedules):
            for position, code in enumerate(codes):
                layers.append(
                    ScheduleLayer(
                        schedule=schedule,
                        name=code,
                        position=position,
                        turn_count=1,
                        turn_unit="weeks",
                        handoff_time=clock(9),
                        start=date(2026, 1, 5) + timedelta(days=s % 7),
                        time_zone=regions[code].time_zone,
                        restrictions=WINDOWS[code],
                    )
                )
        layers = ScheduleLayer.objects.bulk_create(layers)
        for i, layer in enumerate(layers):
            people = layer_people[i // len(codes)][layer.name]
            places += [LayerParticipant(layer=layer, user=user, position=p) for p, user in enumerate(people)]
        LayerParticipant.objects.bulk_create(places)
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        overrides = []
        for s, schedule in enumerate(schedules[::3]):
            cover = layer_people[s * 3]["EU"][0]
            for day in (1, 4):
                start = now + timedelta(days=day, hours=s % 24)
                overrides.append(
                    ScheduleOverride(
                        schedule=schedule, user=cover, start=start, end=start + timedelta(hours=6)
                    )
                )
        ScheduleOverride.objects.bulk_create(overrides)
    print(
        f"seeded {len(schedules)} schedules, {len(layers)} layers, {len(overrides)} overrides "
        f"in {time.perf_counter() - started:.1f} s"
    )


def measure(client: Client, path: str, rounds: int, **headers) -> dict:
    for _ in range(2):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code, response.content[:500])
    connection.queries_log.clear()  # a full log (it keeps 9,000) would count nothing
    with CaptureQueriesContext(connection) as queries:
        client.get(path, headers=headers)
    times, cpu = [], []
    for _ in range(rounds):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    return {
        "path": path,
        "p50": statistics.median(times),
        "p99": p99,
        "cpu": statistics.median(cpu),
        "kb": len(response.content) / 1024,
        "queries": len(queries),
    }


def main(rounds: int) -> None:
    from oncall.models import Schedule, Team
    from opsportal.core.identity_services import api_token_create
    from opsportal.core.models import StaffProfile
    from opsportal.core.roles import Role
    from opsportal.core.services import SYSTEM, staff_set_role

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test Client's host
    # One connection for the whole run, as a persistent connection would be, so the query counts are this run's.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    call_command("migrate", verbosity=0)
    seed()
    viewer, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    staff_set_role(actor=SYSTEM, user=viewer, role=Role.VIEWER)
    StaffProfile.objects.get_or_create(user=viewer, defaults={"time_zone": "Europe/Dublin"})
    _, token = api_token_create(actor=SYSTEM, user=viewer, name="bench", scopes=["oncall:read"])
    staff = Client()
    staff.force_login(viewer)
    partner = {"Authorization": f"Bearer {token}"}
    demo_team = Team.objects.exclude(slug__startswith="bench-").order_by("name").first().slug
    print(
        f"{Schedule.objects.count()} schedules in {Team.objects.count()} teams; reference team: {demo_team}"
    )
    rows = [
        measure(Client(), "/healthz", rounds),
        measure(staff, "/portal/oncall/", rounds),
        measure(staff, f"/portal/oncall/?team={demo_team}", rounds),
        measure(Client(), "/api/v1/oncall/", rounds, **partner),
        measure(Client(), "/api/v1/oncall/?page_size=200", rounds, **partner),
        measure(Client(), f"/api/v1/oncall/?team={demo_team}", rounds, **partner),
        measure(Client(), "/api/v1/oncall/regions/", rounds, **partner),
        measure(Client(), "/api/v1/oncall/teams/", rounds, **partner),
        measure(Client(), "/api/v1/oncall/teams/?page_size=200", rounds, **partner),
        measure(Client(), "/api/v1/oncall/teams/?region=EU&page_size=200", rounds, **partner),
    ]
    print(f"\n{'path':46} {'p50 ms':>8} {'p99 ms':>8} {'CPU p50':>8} {'KiB':>8} {'queries':>8}")
    for row in rows:
        print(
            f"{row['path']:46} {row['p50']:8.1f} {row['p99']:8.1f} {row['cpu']:8.1f} {row['kb']:8.1f} "
            f"{row['queries']:8d}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
