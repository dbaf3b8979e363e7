"""Core reads: the audit log and the staff list as the portal shows them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When

from opsportal.core.models import AuditEntry
from opsportal.core.roles import PARTNER_ACCOUNT_PREFIX, ROLE_ORDER

# A name search looks at this many words at most ("ana lopez" is two): more only slows the query.
STAFF_SEARCH_WORDS = 4


def audit_entries(*, action: str = "", actor: str = "", object_type: str = "") -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("actor")
    if action:
        entries = entries.filter(action__startswith=action)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if object_type:
        entries = entries.filter(object_type=object_type)
    return entries


AUDIT_ACTIONS_SQL = """
WITH RECURSIVE actions(action) AS (
    SELECT MIN(action) FROM core_auditentry
    UNION ALL
    SELECT (SELECT MIN(e.action) FROM core_auditentry e WHERE e.action > actions.action)
    FROM actions WHERE actions.action IS NOT NULL
)
SELECT action FROM actions WHERE action IS NOT NULL
"""


def audit_actions() -> list[str]:
    """Every action the log holds, in order. A loose index scan (one index probe per distinct action) rather
    than DISTINCT over the whole log, which reads every row of an append-only table (issue 11)."""
    assert AuditEntry._meta.db_table == "core_auditentry"  # named in the SQL below
    with connection.cursor() as cursor:
        cursor.execute(AUDIT_ACTIONS_SQL)
        return [row[0] for row in cursor.fetchall()]


def staff_members() -> QuerySet:
    return (
        get_user_model()
        .objects.filter(is_active=True, partner__isnull=True)
        .select_related("staff_profile")
        .prefetch_related("groups")
        .order_by("username")
    )


def _portal_staff() -> QuerySet:
    """Active people who hold a staff role (or are superusers): who can take a role in an incident."""
    User = get_user_model()
    in_role = User.groups.through.objects.filter(
        user_id=OuterRef("pk"), group__name__in=[role.value for role in ROLE_ORDER]
    )
    return (
        User.objects.filter(is_active=True, partner__isnull=True)
        .exclude(username__startswith=PARTNER_ACCOUNT_PREFIX)
        .filter(Q(is_superuser=True) | Exists(in_role))
    )


def staff_matching(query: str, *, limit: int) -> list:
    """Staff whose username, name or email contains every word of `query`; exact username or email first, then
    usernames starting with it. An empty query gives the most recently signed-in staff ("recently active").
    At most `limit` (+1, so the page can say there are more); each with its groups, for its role."""
    staff = _portal_staff().prefetch_related("groups")
    words = query.split()[:STAFF_SEARCH_WORDS]
    if not words:
        return list(staff.order_by(F("last_login").desc(nulls_last=True), "username")[: limit + 1])
    for word in words:
        staff = staff.filter(
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
        )
    whole = query.strip()
    rank = Case(
        When(Q(username__iexact=whole) | Q(email__iexact=whole), then=Value(0)),
        When(username__istartswith=words[0], then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return list(staff.annotate(rank=rank).order_by("rank", "username")[: limit + 1])


def staff_member_named(name: str):
    """The staff member with this exact username or email (ignoring case), or None: the person search's
    fallback without JavaScript. An email two people share names nobody."""
    name = name.strip()
    if not name:
        return None
    matches = list(_portal_staff().filter(Q(username__iexact=name) | Q(email__iexact=name))[:2])
    by_username = [user for user in matches if user.username.lower() == name.lower()]
    if by_username:
        return by_username[0]
    return matches[0] if len(matches) == 1 else None
