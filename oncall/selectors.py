"""On-call reads."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from oncall.models import Region, Team, TeamMembership


def regions() -> QuerySet[Region]:
    return Region.objects.all()


def teams_with_members() -> QuerySet[Team]:
    memberships = TeamMembership.objects.select_related("user", "region").order_by(
        "region__position", "user__username"
    )
    return Team.objects.prefetch_related(Prefetch("memberships", queryset=memberships))
