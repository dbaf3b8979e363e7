"""Incident reads for the war room, the API and the public page (which only ever sees public fields)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import (
    Avg,
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual
from django.http import Http404
from django.utils import timezone

from opsportal.incidents.lifecycle import ACTIVE, NEVER_PUBLIC, NOT_COUNTED
from opsportal.incidents.metrics import SeverityMetrics
from opsportal.incidents.models import (
    AffectedComponent,
    Incident,
    Postmortem,
    PublicUpdate,
    RoleAssignment,
    SeverityPolicy,
    TimelineEvent,
)
from opsportal.incidents.sla import ClockName, SlaClock, SlaTargets, sla_clocks
from statuspage.models import Component


@dataclass
class IncidentFilters:
    severity: str = ""
    status: str = ""
    team: int | None = None
    component: int | None = None
    since: date | None = None
    until: date | None = None
    q: str = ""
    active_only: bool = False


def incidents_list(filters: IncidentFilters | None = None) -> QuerySet[Incident]:
    filters = filters or IncidentFilters()
    incidents = Incident.objects.select_related("team").prefetch_related(
        Prefetch(
            "role_assignments",
            queryset=RoleAssignment.objects.filter(relieved_at__isnull=True).select_related("user"),
        ),
        Prefetch("affected_components", queryset=AffectedComponent.objects.select_related("component")),
    )
    if filters.severity:
        incidents = incidents.filter(severity=filters.severity)
    if filters.status:
        incidents = incidents.filter(status=filters.status)
    if filters.active_only:
        incidents = incidents.filter(status__in=[s.value for s in ACTIVE])
    if filters.team:
        incidents = incidents.filter(team_id=filters.team)
    if filters.component:
        # A semi-join, not a join: no duplicate rows, so no DISTINCT over the whole table (issue 11).
        affected = AffectedComponent.objects.filter(incident=OuterRef("pk"), component_id=filters.component)
        incidents = incidents.filter(Exists(affected))
    if filters.since:
        incidents = incidents.filter(started_at__gte=datetime.combine(filters.since, time.min, tzinfo=UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=UTC)
        incidents = incidents.filter(started_at__lt=end)
    if filters.q:
        query = filters.q.strip()
        match = Q(title__icontains=query) | Q(public_title__icontains=query) | Q(summary__icontains=query)
        if query.upper().startswith("INC-") and query[4:].isdigit():
            match |= Q(pk=int(query[4:]))
        incidents = incidents.filter(match)
    return incidents


def incident_detail(incident_id: int) -> Incident:
    return incidents_list().select_related("declared_by", "merged_into").get(pk=incident_id)


def incident_timeline(incident: Incident) -> QuerySet[TimelineEvent]:
    return incident.timeline.select_related("actor").order_by("at", "id")


def incident_clocks(incident: Incident, now: datetime | None = None) -> tuple[SlaClock, ...]:
    policy = SeverityPolicy.objects.get(severity=incident.severity)
    return sla_clocks(incident.times, policy.targets, now or timezone.now())


def incident_ids_with_running_clocks() -> list[int]:
    return list(Incident.objects.filter(status__in=[s.value for s in ACTIVE]).values_list("pk", flat=True))


def components_to_add(incident_id: int, query: str, *, limit: int) -> list[Component]:
    """Components this incident does not affect yet whose name contains `query`, names starting with it first:
    the war room's "add a component" search. At most `limit` (+1, so the page can say there are more)."""
    affected = AffectedComponent.objects.filter(incident_id=incident_id).values("component_id")
    return components_matching(query, limit=limit, excluding=affected)


def components_matching(query: str, *, limit: int, excluding=()) -> list[Component]:
    """Components whose name contains `query`, names starting with it first, leaving out the ids in `excluding`
    (a list or a subquery): the search boxes that add components. At most `limit` (+1: the page says there are
    more)."""
    query = query.strip()
    matches = Component.objects.exclude(pk__in=excluding).select_related("group")
    if query:
        matches = matches.filter(name__icontains=query).annotate(
            later=Case(
                When(name__istartswith=query, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        return list(matches.order_by("later", "name")[: limit + 1])
    return list(matches.order_by("name")[: limit + 1])


def affected_components_of(incident_id: int) -> list[Component]:
    return list(Component.objects.filter(incident_impacts__incident_id=incident_id).order_by("name"))


def component_named(name: str) -> Component | None:
    """The component with this name, ignoring case (names are unique): the search form's fallback without
    JavaScript."""
    return Component.objects.filter(name__iexact=name.strip()).order_by("pk").first()


def merge_targets(incident_id: int, query: str, *, limit: int) -> list[Incident]:
    """Active incidents this one could be merged into, newest first, matching `query` by reference ("INC-12",
    "12") or title; at most `limit` (+1)."""
    targets = Incident.objects.filter(status__in=[s.value for s in ACTIVE]).exclude(pk=incident_id)
    number = _incident_number(query)
    query = query.strip()
    if number is not None:
        targets = targets.filter(Q(pk=number) | Q(title__icontains=query))
    elif query:
        targets = targets.filter(Q(title__icontains=query) | Q(public_title__icontains=query))
    return list(targets.order_by("-started_at", "-pk")[: limit + 1])


def _incident_number(query: str) -> int | None:
    """12 from "INC-12", "inc-12", "#12" or "12"; None when the query is no incident number (or one past 64
    bits, which no row has)."""
    text = query.strip().upper().removeprefix("INC-").removeprefix("#")
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def merge_target_by_reference(incident_id: int, reference: str) -> Incident | None:
    """The active incident named by "INC-12" or "12" that this one may merge into: the fallback without
    JavaScript."""
    number = _incident_number(reference)
    if number is None or number == incident_id:
        return None
    return Incident.objects.filter(pk=number, status__in=[s.value for s in ACTIVE]).first()


def active_roles(incident: Incident) -> list[RoleAssignment]:
    return [a for a in incident.role_assignments.all() if a.relieved_at is None]


def timeline_markdown(incident: Incident) -> str:
    lines = [
        f"# {incident.reference}: {incident.title}",
        "",
        f"- Severity: {incident.severity}",
        f"- Status: {incident.status}",
        f"- Started: {incident.started_at:%Y-%m-%d %H:%M} UTC",
        "",
        "## Timeline",
        "",
    ]
    for event in incident_timeline(incident):
        flags = " (public)" if event.is_public else ""
        flags += " 📌" if event.pinned else ""
        lines.append(
            f"- **{event.at:%Y-%m-%d %H:%M:%S}** {event.actor_label} · {event.get_kind_display()}{flags}: "
            f"{event.body}"
        )
    return "\n".join(lines) + "\n"


def severity_policies() -> QuerySet[SeverityPolicy]:
    return SeverityPolicy.objects.all()


def incident_metrics(
    *, since: datetime, until: datetime, now: datetime | None = None
) -> list[SeverityMetrics]:
    """MTTA, MTTR and SLA compliance per severity, aggregated by the database in one grouped query.

    The same numbers as metrics.severity_metrics() over every incident of the period (that pure function is
    the definition, and a test holds the two together), without loading a year of incidents (issue 11)."""
    now = now or timezone.now()
    policies = {policy.severity: policy.targets for policy in SeverityPolicy.objects.all()}
    if not policies:
        return []
    breached = _any_clock_breached(policies, now)
    resolved = Q(resolved_at__isnull=False)
    rows = (
        Incident.objects.filter(started_at__gte=since, started_at__lt=until, severity__in=list(policies))
        .exclude(status__in=NOT_COUNTED)
        .values("severity")
        .annotate(
            incidents=Count("id"),
            mtta=Avg(_between("detected_at", F("acknowledged_at"))),  # NULLs (unacknowledged) left out
            mttr=Avg(_between("started_at", F("resolved_at"))),
            breaches=Count("id", filter=breached),
            resolved_breaches=Count("id", filter=breached & resolved),
            resolved=Count("id", filter=resolved),
        )
        .order_by()
    )
    by_severity = {row["severity"]: row for row in rows}
    results = []
    for severity in sorted(policies):
        row = by_severity.get(severity)
        if row is None:
            results.append(SeverityMetrics(severity, 0, None, None, None, 0))
            continue
        # Judged: breached (running or not), or resolved within every target.
        judged = row["breaches"] + row["resolved"] - row["resolved_breaches"]
        results.append(
            SeverityMetrics(
                severity=severity,
                incidents=row["incidents"],
                mtta=row["mtta"],
                mttr=row["mttr"],
                sla_compliance=(judged - row["breaches"]) / judged if judged else None,
                breaches=row["breaches"],
            )
        )
    return results


def _between(start: str, stop) -> ExpressionWrapper:
    return ExpressionWrapper(stop - F(start), output_field=DurationField())


def _any_clock_breached(policies: dict[str, SlaTargets], now: datetime) -> Q:
    """sla.sla_clock()'s BREACHED in SQL: a started clock whose elapsed time (to its stop, or to now while it
    runs) reached its target. A zero target is breached as soon as the clock starts (elapsed is never < 0)."""
    running_until_now = Value(now, output_field=DateTimeField())
    clocks = {
        ClockName.DETECT: ("started_at", "detected_at"),
        ClockName.RESPOND: ("detected_at", "acknowledged_at"),
        ClockName.RESOLVE: ("started_at", "resolved_at"),
    }
    any_severity = Q(pk__in=[])
    for severity, targets in policies.items():
        any_clock = Q(pk__in=[])
        for name, (start, stop) in clocks.items():
            target = targets.for_clock(name)
            if target <= timedelta(0):
                any_clock |= Q(**{f"{start}__isnull": False})
            else:
                elapsed = _between(start, Coalesce(F(stop), running_until_now))
                any_clock |= Q(
                    GreaterThanOrEqual(elapsed, Value(target, output_field=DurationField())),
                    **{f"{start}__isnull": False},
                )
        any_severity |= Q(severity=severity) & any_clock
    return any_severity


# Public reads: only fields merchants may see. Internal titles, summaries and notes never leave these.

PUBLIC_FIELDS = (
    "id",
    "public_title",
    "status",
    "severity",
    "started_at",
    "resolved_at",
    "created_at",
    "updated_at",
    "mitigated_at",
)


def public_incidents() -> QuerySet[Incident]:
    """Incidents that have said something in public (a public update), newest first."""
    published_summary = Postmortem.objects.filter(incident=OuterRef("pk"), status=Postmortem.Status.PUBLISHED)
    # EXISTS rather than a join + DISTINCT: the rows come straight off the started_at index, so a page
    # (LIMIT) or a date range reads only its own incidents, not every public update (issue 11).
    has_public_update = PublicUpdate.objects.filter(incident=OuterRef("pk"))
    return (
        Incident.objects.filter(Exists(has_public_update))
        .exclude(status__in=NEVER_PUBLIC)
        .only(*PUBLIC_FIELDS)
        .annotate(public_postmortem_summary=Subquery(published_summary.values("public_summary")[:1]))
        .prefetch_related(
            Prefetch(
                "public_updates",
                queryset=PublicUpdate.objects.only(
                    "id", "incident_id", "status", "body", "component_statuses", "created_at"
                ),
            ),
            Prefetch("affected_components", queryset=AffectedComponent.objects.select_related("component")),
        )
        .order_by("-started_at")
    )


def public_active_incidents() -> QuerySet[Incident]:
    return public_incidents().filter(status__in=[s.value for s in ACTIVE])


def public_incident(incident_id: int) -> Incident | None:
    return public_incidents().filter(pk=incident_id).first()


def incidents_for_api(filters: IncidentFilters) -> QuerySet[Incident]:
    # The post-mortem joins in so each row's public status costs no extra query.
    return incidents_list(filters).select_related("postmortem")


def incident_or_404(incident_id: int) -> Incident:
    """The bare row, for handing to a service (which locks and re-reads it)."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        raise Http404("No such incident.")
    return incident


def incident_detail_or_404(incident_id: int) -> Incident:
    try:
        return incident_detail(incident_id)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


def incident_public_updates(incident: Incident) -> QuerySet[PublicUpdate]:
    return incident.public_updates.select_related("author").order_by("-created_at", "-id")


def postmortem_for_incident(incident_id: int) -> Postmortem | None:
    return (
        Postmortem.objects.select_related("incident")
        .prefetch_related("action_items__owner")
        .filter(incident_id=incident_id)
        .first()
    )


def postmortem_or_404(incident_id: int) -> Postmortem:
    postmortem = postmortem_for_incident(incident_id)
    if postmortem is None:
        raise Http404("This incident has no post-mortem yet; POST to start one.")
    return postmortem
