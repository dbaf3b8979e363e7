"""Demo data: three regions, a dozen staff, teams, and status-page components with 90 days of history.

Idempotent: running it again changes nothing that is already there.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from oncall.models import Region, Team, TeamMembership
from opsportal.core.models import StaffProfile
from opsportal.core.roles import Role, role_of
from opsportal.core.services import SYSTEM, audit_record, staff_set_role
from statuspage.models import Component, ComponentGroup, ComponentStatus, ComponentStatusChange

DEMO_PASSWORD = "opsportal-demo"  # noqa: S105 (demo logins only; load_demo refuses with DEBUG off)

REGIONS = [
    # code, name, time zone, business hours
    ("NA", "North America", "America/Toronto", datetime.time(9), datetime.time(17)),
    ("EU", "Europe", "Europe/Dublin", datetime.time(9), datetime.time(17)),
    ("APAC", "Asia-Pacific", "Asia/Singapore", datetime.time(9), datetime.time(17)),
]


@dataclass(frozen=True)
class DemoStaff:
    username: str
    name: str
    role: Role
    region: str
    time_zone: str
    phone: str


STAFF = [
    DemoStaff("ana", "Ana Souza", Role.ADMIN, "NA", "America/Toronto", "+14165550101"),
    DemoStaff("ben", "Ben Carter", Role.INCIDENT_COMMANDER, "NA", "America/New_York", "+12125550102"),
    DemoStaff("chloe", "Chloé Martin", Role.RESPONDER, "NA", "America/Vancouver", "+16045550103"),
    DemoStaff("dev", "Dev Patel", Role.VIEWER, "NA", "America/Toronto", "+14165550104"),
    DemoStaff("eoin", "Eoin Byrne", Role.ADMIN, "EU", "Europe/Dublin", "+35315550105"),
    DemoStaff("freya", "Freya Lund", Role.INCIDENT_COMMANDER, "EU", "Europe/Stockholm", "+46855500106"),
    DemoStaff("goran", "Goran Petrov", Role.RESPONDER, "EU", "Europe/Berlin", "+49305550107"),
    DemoStaff("hana", "Hana Novak", Role.VIEWER, "EU", "Europe/Prague", "+42025550108"),
    DemoStaff("iris", "Iris Tan", Role.INCIDENT_COMMANDER, "APAC", "Asia/Singapore", "+6565550109"),
    DemoStaff("jun", "Jun Sato", Role.RESPONDER, "APAC", "Asia/Tokyo", "+81355500110"),
    DemoStaff("kiri", "Kiri Walker", Role.RESPONDER, "APAC", "Australia/Sydney", "+61255500111"),
    DemoStaff("lakshmi", "Lakshmi Rao", Role.VIEWER, "APAC", "Asia/Kolkata", "+91225550112"),
]

TEAMS = {
    "Checkout SRE": ["ben", "chloe", "freya", "goran", "iris", "jun"],
    "Payments": ["ana", "chloe", "eoin", "goran", "iris", "kiri"],
    "Platform": ["ben", "dev", "freya", "hana", "jun", "kiri", "lakshmi"],
}

COMPONENTS = {
    "Storefront": ["Online Store", "Storefront API", "Search"],
    "Checkout": ["Checkout", "Cart", "Discounts"],
    "Payments": ["Card payments", "Wallets (Apple Pay, Google Pay)", "Payouts", "Fraud screening"],
    "Admin": ["Merchant admin", "Reports and analytics", "Order management"],
    "Partner API": ["REST Admin API", "GraphQL Admin API", "App installs (OAuth)"],
    "Webhooks": ["Webhook delivery"],
    "CDN": ["Static assets", "Image CDN"],
    "Notifications": ["Merchant email", "SMS"],
}
HISTORY_DAYS = 90


def demo_logins() -> list[tuple[str, str]]:
    if not settings.DEBUG:
        return []
    existing = set(
        get_user_model()
        .objects.filter(username__in=[s.username for s in STAFF])
        .values_list("username", flat=True)
    )
    return [(s.username, s.role.label) for s in STAFF if s.username in existing]


@transaction.atomic
def demo_load(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Create whatever demo data is missing. Returns how many rows of each kind were created."""
    now = now or timezone.now()
    created = {"regions": 0, "staff": 0, "teams": 0, "components": 0, "status_changes": 0}

    regions = {}
    for position, (code, name, tz, start, end) in enumerate(REGIONS):
        region, made = Region.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "time_zone": tz,
                "business_day_start": start,
                "business_day_end": end,
                "position": position,
            },
        )
        regions[code] = region
        created["regions"] += made

    User = get_user_model()
    users = {}
    # Hashing is deliberately slow; one hash shared by every demo login keeps `make run` quick.
    demo_password_hash = None
    for person in STAFF:
        first, _, last = person.name.partition(" ")
        user, made = User.objects.get_or_create(
            username=person.username,
            defaults={"first_name": first, "last_name": last, "email": f"{person.username}@ops.example.com"},
        )
        if made:
            demo_password_hash = demo_password_hash or make_password(DEMO_PASSWORD)
            user.password = demo_password_hash
            user.save(update_fields=["password"])
            created["staff"] += 1
        StaffProfile.objects.get_or_create(
            user=user, defaults={"time_zone": person.time_zone, "phone_number": person.phone}
        )
        if made or role_of(user) is None:
            staff_set_role(actor=SYSTEM, user=user, role=person.role)
        users[person.username] = user

    home_region = {person.username: regions[person.region] for person in STAFF}
    for name, usernames in TEAMS.items():
        team, made = Team.objects.get_or_create(name=name, defaults={"slug": name.lower().replace(" ", "-")})
        created["teams"] += made
        for username in usernames:
            TeamMembership.objects.get_or_create(
                team=team, user=users[username], defaults={"region": home_region[username]}
            )

    start_date = (now - datetime.timedelta(days=HISTORY_DAYS + 30)).date()
    for group_position, (group_name, names) in enumerate(COMPONENTS.items()):
        group, _ = ComponentGroup.objects.get_or_create(
            name=group_name, defaults={"position": group_position}
        )
        for position, name in enumerate(names):
            component, made = Component.objects.get_or_create(
                name=name, defaults={"group": group, "position": position, "start_date": start_date}
            )
            created["components"] += made
            if not component.status_changes.exists():
                created["status_changes"] += _demo_history(component, now=now)

    if any(created.values()):
        audit_record(actor=SYSTEM, action="demo.loaded", after=created)
    return created


def _demo_history(component: Component, *, now: datetime.datetime) -> int:
    """A believable 90 days: a few short degradations and outages, seeded by name so it is repeatable."""
    rng = random.Random(component.name)
    changes = []
    day = now - datetime.timedelta(days=HISTORY_DAYS)
    while True:
        day += datetime.timedelta(hours=rng.randint(60, 900))
        if day >= now - datetime.timedelta(hours=6):
            break
        status = rng.choices(
            [
                ComponentStatus.DEGRADED_PERFORMANCE,
                ComponentStatus.PARTIAL_OUTAGE,
                ComponentStatus.MAJOR_OUTAGE,
            ],
            weights=[6, 3, 1],
        )[0]
        minutes = rng.randint(8, 150)
        end = day + datetime.timedelta(minutes=minutes)
        changes.append(
            ComponentStatusChange(
                component=component, status=status, previous_status=ComponentStatus.OPERATIONAL, at=day
            )
        )
        changes.append(
            ComponentStatusChange(
                component=component, status=ComponentStatus.OPERATIONAL, previous_status=status, at=end
            )
        )
        day = end
    start = ComponentStatusChange(
        component=component,
        status=ComponentStatus.OPERATIONAL,
        previous_status="",
        at=now - datetime.timedelta(days=HISTORY_DAYS + 30),
    )
    ComponentStatusChange.objects.bulk_create([start, *changes])
    return len(changes) + 1
