"""People and their rotas for bench/history.py (issue 11): regions, 400 engineers with roles, 100 teams (each
engineer in three, NA/EU/APAC) and 500 follow-the-sun schedules of three regional layers with overrides."""

from __future__ import annotations

import datetime
import random
import secrets
from collections import Counter

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from oncall.models import (
    LayerParticipant,
    Region,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    Team,
    TeamMembership,
)
from opsportal.core.models import StaffProfile
from opsportal.core.roles import Role

TEAM_SIZE = 12  # each engineer is in three teams
OVERRIDES_PER_SCHEDULE = 20
SCHEDULE_KINDS = ["primary", "secondary", "database", "edge", "release"]

REGIONS = [
    ("NA", "North America", "America/Toronto"),
    ("EU", "Europe", "Europe/Dublin"),
    ("APAC", "Asia-Pacific", "Asia/Singapore"),
]
FOLLOW_THE_SUN = {
    "APAC": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "07:00", "end": "16:00"}],
    "EU": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "08:00", "end": "17:00"}],
    "NA": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "11:00", "end": "19:00"}],
}
AREAS = [
    "Storefront",
    "Checkout",
    "Payments",
    "Merchant admin",
    "Partner API",
    "Webhooks",
    "CDN",
    "Notifications",
    "Search",
    "Identity",
]


def regions_create() -> dict[str, Region]:
    regions = {}
    for position, (code, name, tz) in enumerate(REGIONS):
        regions[code], _ = Region.objects.get_or_create(
            code=code, defaults={"name": name, "time_zone": tz, "position": position}
        )
    return regions


def engineers_create(n: int, regions: dict, counts: Counter) -> list:
    User = get_user_model()
    password = make_password(secrets.token_urlsafe(16))  # nobody logs in as them; one hash for all
    codes = list(regions)
    users = User.objects.bulk_create(
        [
            User(
                username=f"eng{i:04d}",
                first_name=f"Engineer{i:04d}",
                last_name=codes[i % 3].title(),
                email=f"eng{i:04d}@ops.example.com",
                password=password,
            )
            for i in range(n)
        ]
    )
    zones = {code: tz for code, _name, tz in REGIONS}
    StaffProfile.objects.bulk_create(
        [
            StaffProfile(user=u, time_zone=zones[codes[i % 3]], phone_number=f"+1416555{i:04d}")
            for i, u in enumerate(users)
        ]
    )
    # Roles are groups (opsportal.core.roles): mostly responders, some commanders and viewers.
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.value for r in Role])}
    through = User.groups.through
    mix = [Role.RESPONDER] * 6 + [Role.INCIDENT_COMMANDER] * 3 + [Role.VIEWER]
    through.objects.bulk_create(
        [through(user_id=u.pk, group_id=groups[mix[i % len(mix)].value].pk) for i, u in enumerate(users)]
    )
    for i, user in enumerate(users):
        user.home_region = codes[i % 3]
        user.role = mix[i % len(mix)]
    counts["engineers"] = len(users)
    return users


def teams_create(n: int, users: list, regions: dict, counts: Counter) -> list:
    teams = Team.objects.bulk_create(
        [Team(name=f"{AREAS[i % len(AREAS)]} team {i + 1}", slug=f"team-{i + 1}") for i in range(n)]
    )
    memberships = []
    step = max(1, len(users) // n)
    for t, team in enumerate(teams):
        people = [users[(t * step + k) % len(users)] for k in range(TEAM_SIZE)]
        team.people = people
        memberships += [TeamMembership(team=team, user=u, region=regions[u.home_region]) for u in people]
    TeamMembership.objects.bulk_create(memberships)
    counts["teams"] = len(teams)
    counts["memberships"] = len(memberships)
    return teams


def schedules_create(n: int, teams: list, rng: random.Random, *, now, days: int, counts: Counter) -> None:
    schedules = Schedule.objects.bulk_create(
        [
            Schedule(
                name=f"{teams[i % len(teams)].name} {SCHEDULE_KINDS[(i // len(teams)) % len(SCHEDULE_KINDS)]}",
                slug=f"{teams[i % len(teams)].slug}-{SCHEDULE_KINDS[(i // len(teams)) % len(SCHEDULE_KINDS)]}-{i}",
                team=teams[i % len(teams)],
            )
            for i in range(n)
        ]
    )
    zones = {code: tz for code, _name, tz in REGIONS}
    layers, layer_people = [], []
    first_monday = (now - datetime.timedelta(days=days + 7)).date()
    first_monday -= datetime.timedelta(days=first_monday.weekday())
    for s, schedule in enumerate(schedules):
        for position, code in enumerate(("APAC", "EU", "NA")):
            people = [u for u in schedule.team.people if u.home_region == code]
            if not people:
                continue
            people = people[s % len(people) :] + people[: s % len(people)]  # each schedule its own order
            layer = ScheduleLayer(
                schedule=schedule,
                name=code,
                position=position,
                start=first_monday,
                time_zone=zones[code],
                restrictions=FOLLOW_THE_SUN[code],
            )
            layers.append(layer)
            layer_people.append(people)
    ScheduleLayer.objects.bulk_create(layers)
    LayerParticipant.objects.bulk_create(
        [
            LayerParticipant(layer=layer, user=u, position=p)
            for layer, people in zip(layers, layer_people, strict=True)
            for p, u in enumerate(people)
        ]
    )
    overrides = []
    for schedule in schedules:
        # Mostly history, a few this week and next (the board and next_handoff see them).
        for k in range(OVERRIDES_PER_SCHEDULE):
            if k < OVERRIDES_PER_SCHEDULE - 3:
                start = now - datetime.timedelta(days=rng.uniform(1, days))
            else:
                start = now + datetime.timedelta(hours=rng.uniform(-48, 240))
            start = start.replace(minute=0, second=0, microsecond=0)
            user = rng.choice(schedule.team.people)
            overrides.append(
                ScheduleOverride(
                    schedule=schedule,
                    user=user,
                    created_by=user,
                    start=start,
                    end=start + datetime.timedelta(hours=rng.choice([4, 6, 8, 12])),
                    reason=rng.choice(["Covering a dentist appointment", "Travelling", "Swap for a holiday"]),
                )
            )
    ScheduleOverride.objects.bulk_create(overrides, batch_size=5000)
    counts["schedules"] = len(schedules)
    counts["layers"] = len(layers)
    counts["overrides"] = len(overrides)
