"""Demo data: three regions, a dozen staff, teams and their follow-the-sun schedules, status-page components
with 90 days of history, and alerting (opsportal/demo/alerting.py).

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

from oncall import rotation, selectors
from oncall import services as oncall_services
from oncall.models import Region, Schedule, Team, TeamMembership
from opsportal.changes.models import MaintenanceWindow
from opsportal.core.models import StaffProfile
from opsportal.core.roles import RESPOND, Role, role_of
from opsportal.core.services import SYSTEM, audit_record, staff_set_role
from opsportal.demo.alerting import demo_alerting
from opsportal.incidents.models import Incident
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
    created = {
        "regions": 0,
        "staff": 0,
        "teams": 0,
        "components": 0,
        "status_changes": 0,
        "incidents": 0,
        "maintenance": 0,
        "schedules": 0,
    }

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

    if not Incident.objects.exists():
        created["incidents"] = _demo_incidents(users, now=now)
    else:
        created["incidents"] = 0

    if not MaintenanceWindow.objects.exists():
        created["maintenance"] = _demo_maintenance(now=now)

    if not Schedule.objects.exists():
        created["schedules"] = _demo_schedules(now=now)

    # After the schedules: the policies page whoever is on call in them.
    created.update(demo_alerting(users, now=now))

    if any(created.values()):
        audit_record(actor=SYSTEM, action="demo.loaded", after=created)
    return created


# Follow the sun, every day of the week: each region takes the hours around its own working day, in its own zone.
# The windows overlap by an hour or more in UTC whichever side of a DST change each region is on (North America
# and Europe change on different weekends), so the three together leave no hour uncovered; where two overlap the
# later layer (NA over EU over APAC) holds the schedule.
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]
FOLLOW_THE_SUN = {
    "APAC": [{"days": EVERY_DAY, "start": "07:00", "end": "16:00"}],  # Singapore: 23:00-08:00 UTC
    "EU": [{"days": EVERY_DAY, "start": "08:00", "end": "17:00"}],  # Dublin: 08:00-17:00 UTC (summer 07-16)
    "NA": [{"days": EVERY_DAY, "start": "11:00", "end": "19:00"}],  # Toronto: 16:00-00:00 UTC (summer 15-23)
}


def _demo_schedules(*, now: datetime.datetime) -> int:
    """Per team: APAC, EU and NA layers, each a weekly rotation of the team's people there covering their region's
    part of the day (FOLLOW_THE_SUN), so every schedule is covered 24/7; two overrides this week and a pending
    swap next week, so the timeline shows a real week."""
    monday = now.date() - datetime.timedelta(days=now.weekday())
    zones = {code: tz for code, _name, tz, *_hours in REGIONS}
    made = 0
    teams = Team.objects.prefetch_related("memberships__user", "memberships__region").order_by("name")
    for team in teams:
        schedule = oncall_services.schedule_create(
            actor=SYSTEM, name=f"{team.name} follow-the-sun", slug=f"{team.slug}-follow-the-sun", team=team
        )
        by_region: dict[str, list] = {}
        for membership in sorted(team.memberships.all(), key=lambda m: m.user.username):
            by_region.setdefault(membership.region.code, []).append(membership.user)
        for code, windows in FOLLOW_THE_SUN.items():
            if by_region.get(code):
                oncall_services.layer_create(
                    actor=SYSTEM,
                    schedule=schedule,
                    name=code,
                    participants=by_region[code],
                    start=monday - datetime.timedelta(weeks=4),  # mid-rotation, not everyone's first turn
                    time_zone=zones[code],
                    restrictions=windows,
                )
        engine = selectors.rotation_schedule(selectors.schedules_for_engine().get(pk=schedule.pk))
        week_start = datetime.datetime.combine(monday, datetime.time(), tzinfo=datetime.UTC)
        shifts = rotation.final_schedule(engine, week_start, week_start + datetime.timedelta(weeks=3))
        _demo_overrides_and_swap(
            schedule, shifts, by_region, next_week=week_start + datetime.timedelta(weeks=1)
        )
        made += 1
    return made


def _demo_overrides_and_swap(schedule: Schedule, shifts: list, by_region: dict, *, next_week) -> None:
    """A colleague from the same region covers the first half of NA's Wednesday and EU's Thursday shifts this
    week; from next week on, the first person on shift who may respond asks a colleague to take it (a
    viewer may not ask, and in a small team every viewer can be on at once)."""
    users = {user.username: user for people in by_region.values() for user in people}

    def colleague(shift):
        region = next((code for code, people in by_region.items() if users[shift.person] in people), None)
        return next((u for u in by_region.get(region, []) if u.username != shift.person), None)

    for region, weekday in (("NA", 2), ("EU", 3)):
        shift = next(
            (
                x
                for x in shifts
                if x.source == region and x.start < next_week and x.start.weekday() == weekday
            ),
            None,
        )
        cover = colleague(shift) if shift else None
        if cover is not None:
            oncall_services.override_create(
                actor=SYSTEM,
                schedule=schedule,
                user=cover,
                start=shift.start,
                end=shift.start + (shift.end - shift.start) / 2,
                reason="Covering a dentist appointment",
            )
    for shift in (x for x in shifts if x.start >= next_week and x.source != rotation.OVERRIDE):
        requester, counterpart = users[shift.person], colleague(shift)
        if counterpart is not None and requester.has_perm(RESPOND):
            oncall_services.swap_propose(
                actor=requester,
                schedule=schedule,
                counterpart=counterpart,
                start=shift.start,
                end=shift.end,
                reason="Travelling that day",
            )
            return


# (days ago, severity, internal title, public title, component, impact, commander, minutes to ack, to resolve)
PAST_INCIDENTS = [
    (
        58,
        "P2",
        "Search index lag after reindex job",
        "Delayed search results",
        "Search",
        "degraded_performance",
        "ben",
        9,
        140,
    ),
    (
        51,
        "P1",
        "Payouts batch stuck on bank file upload",
        "Delayed merchant payouts",
        "Payouts",
        "partial_outage",
        "freya",
        12,
        200,
    ),
    (
        44,
        "P3",
        "Report exports timing out for large shops",
        "Slow report exports",
        "Reports and analytics",
        "degraded_performance",
        "iris",
        50,
        900,
    ),
    (
        37,
        "P0",
        "Checkout 500s after config push",
        "Checkout errors",
        "Checkout",
        "major_outage",
        "ben",
        3,
        48,
    ),
    (
        30,
        "P2",
        "Image CDN cache misses in APAC",
        "Slow images in Asia-Pacific",
        "Image CDN",
        "degraded_performance",
        "iris",
        20,
        95,
    ),
    (
        23,
        "P1",
        "Webhook delivery backlog",
        "Delayed webhooks",
        "Webhook delivery",
        "partial_outage",
        "freya",
        18,
        260,
    ),
    (
        16,
        "P0",
        "Card authorisations failing at acquirer",
        "Card payments failing",
        "Card payments",
        "major_outage",
        "iris",
        6,
        75,
    ),
    (
        9,
        "P2",
        "OAuth app installs intermittently failing",
        "App installs failing for some merchants",
        "App installs (OAuth)",
        "partial_outage",
        "ben",
        25,
        180,
    ),
    (
        4,
        "P1",
        "Merchant admin slow during flash sale",
        "Slow merchant admin",
        "Merchant admin",
        "degraded_performance",
        "freya",
        7,
        150,
    ),
]


def _demo_incidents(users: dict, *, now: datetime.datetime) -> int:
    """Nine resolved incidents over two months (for metrics and history) and one live P1 to command."""
    from opsportal.incidents import services as incident_services
    from opsportal.incidents.models import Incident as IncidentModel
    from opsportal.incidents.models import IncidentRole, PublicUpdate, TimelineEvent
    from opsportal.incidents.postmortems import postmortem_edit, postmortem_start, postmortem_transition

    count = 0
    for (
        days_ago,
        severity,
        title,
        public_title,
        component_name,
        impact,
        commander,
        ack,
        resolve,
    ) in PAST_INCIDENTS:
        component = Component.objects.get(name=component_name)
        incident = incident_services.incident_declare(
            actor=SYSTEM,
            title=title,
            public_title=public_title,
            severity=severity,
            components=[(component, impact)],
            commander=users[commander],
        )
        incident_services.incident_post_update(
            actor=SYSTEM,
            incident=incident,
            status="investigating",
            body=f"We are investigating reports of {public_title.lower()}.",
        )
        incident_services.incident_post_update(
            actor=SYSTEM,
            incident=incident,
            status="identified",
            body="We have identified the cause and are applying a fix.",
        )
        incident_services.incident_post_update(
            actor=SYSTEM,
            incident=incident,
            status="resolved",
            body="This incident has been resolved.",
            component_statuses=[(component, ComponentStatus.OPERATIONAL)],
        )
        if severity in ("P0", "P1"):
            postmortem = postmortem_start(actor=SYSTEM, incident=incident)
            postmortem_edit(
                actor=SYSTEM,
                postmortem=postmortem,
                summary=f"{public_title} for {resolve} minutes.",
                customer_impact="Merchants saw errors or delays; no data was lost.",
                root_cause="A change reached production without a staged rollout.",
                public_summary="A change rolled out too widely; we now stage such changes.",
            )
            postmortem_transition(actor=SYSTEM, postmortem=postmortem, status="in_review")
            postmortem_transition(actor=SYSTEM, postmortem=postmortem, status="published")
            incident_services.incident_transition(actor=SYSTEM, incident=incident, status="closed")
        # Move the story back in time: impact began `days_ago`, detected a minute later.
        started = now - datetime.timedelta(days=days_ago, hours=days_ago % 7)
        detected = started + datetime.timedelta(minutes=1 if severity == "P0" else 4)
        acknowledged = detected + datetime.timedelta(minutes=ack)
        resolved = started + datetime.timedelta(minutes=resolve)
        IncidentModel.objects.filter(pk=incident.pk).update(
            started_at=started,
            detected_at=detected,
            acknowledged_at=acknowledged,
            mitigated_at=resolved - datetime.timedelta(minutes=10),
            resolved_at=resolved,
            closed_at=resolved + datetime.timedelta(days=2) if severity in ("P0", "P1") else None,
        )
        events = list(TimelineEvent.objects.filter(incident=incident).order_by("at", "id"))
        span = resolved - detected
        for index, event in enumerate(events):
            event.at = detected + span * index / max(len(events) - 1, 1)
        TimelineEvent.objects.bulk_update(events, ["at"])
        updates = list(PublicUpdate.objects.filter(incident=incident).order_by("created_at", "id"))
        for index, update in enumerate(updates):
            update.created_at = detected + span * (index + 1) / len(updates)
        PublicUpdate.objects.bulk_update(updates, ["created_at"])
        count += 1

    live = incident_services.incident_declare(
        actor=SYSTEM,
        title="EU acquirer returning 05 Do Not Honour on ~8% of card auths",
        public_title="Elevated card payment declines in Europe",
        severity="P1",
        summary="Acquirer status page silent. Retries not helping. Suspect 3DS gateway.",
        components=[(Component.objects.get(name="Card payments"), ComponentStatus.PARTIAL_OUTAGE)],
        commander=users["freya"],
    )
    incident_services.incident_assign_role(
        actor=SYSTEM, incident=live, role=IncidentRole.COMMS_LEAD, user=users["eoin"]
    )
    incident_services.incident_assign_role(
        actor=SYSTEM, incident=live, role=IncidentRole.SCRIBE, user=users["hana"]
    )
    incident_services.incident_add_note(
        actor=SYSTEM,
        incident=live,
        pinned=True,
        body="Declines concentrated on one BIN range; opened ticket with acquirer.",
    )
    # Public updates no longer move an incident out of triage by themselves; the commander does.
    incident_services.incident_transition(actor=SYSTEM, incident=live, status="investigating")
    incident_services.incident_post_update(
        actor=SYSTEM,
        incident=live,
        status="investigating",
        body="Some card payments from European shoppers are being declined. We are investigating with our partner.",
        component_statuses=[(Component.objects.get(name="Card payments"), ComponentStatus.PARTIAL_OUTAGE)],
    )
    return count + 1


def _demo_maintenance(*, now: datetime.datetime) -> int:
    """One finished window ten days ago (for history) and one in two days (so the public page shows it)."""
    from opsportal.changes import services as maintenance_services
    from opsportal.changes.models import MaintenanceUpdate

    # Services refuse a window that is already over, so schedule the past one ahead, run it through its
    # lifecycle, then move the story back in time.
    past = maintenance_services.maintenance_schedule(
        actor=SYSTEM,
        title="Database upgrade for reports",
        body="Reports and analytics may be unavailable for up to an hour while we upgrade their database.",
        components=[Component.objects.get(name="Reports and analytics")],
        scheduled_for=now + datetime.timedelta(hours=1),
        scheduled_until=now + datetime.timedelta(hours=2),
    )
    for status in ("in_progress", "verifying", "completed"):
        maintenance_services.maintenance_transition(actor=SYSTEM, window=past, status=status)
    starts = (now - datetime.timedelta(days=10)).replace(hour=2, minute=0, second=0, microsecond=0)
    ends = starts + datetime.timedelta(hours=1)
    MaintenanceWindow.objects.filter(pk=past.pk).update(
        scheduled_for=starts,
        scheduled_until=ends,
        started_at=starts,
        completed_at=ends - datetime.timedelta(minutes=10),
        created_at=starts - datetime.timedelta(days=5),
    )
    updates = list(MaintenanceUpdate.objects.filter(window=past).order_by("created_at", "id"))
    moments = [starts - datetime.timedelta(days=5), starts, ends - datetime.timedelta(minutes=20), ends]
    for update, moment in zip(updates, moments, strict=False):
        update.created_at = moment
    MaintenanceUpdate.objects.bulk_update(updates, ["created_at"])

    upcoming_start = (now + datetime.timedelta(days=2)).replace(hour=3, minute=0, second=0, microsecond=0)
    maintenance_services.maintenance_schedule(
        actor=SYSTEM,
        title="Payouts bank-file switch",
        body="We are moving payouts to a new bank-file format. Payouts scheduled in this window are sent "
        "when it ends; no payout is lost.",
        components=[Component.objects.get(name="Payouts")],
        scheduled_for=upcoming_start,
        scheduled_until=upcoming_start + datetime.timedelta(minutes=90),
    )
    return 2


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
