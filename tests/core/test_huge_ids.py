"""Ids past 64 bits in portal and public paths: no such page (404), never a database overflow (500)."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

HUGE = "9" * 19  # fits the path pattern, not a 64-bit column
HUGER = "1" + "0" * 30


def _id_paths(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if not route.startswith("api"):
                yield from _id_paths(entry, route)
        elif isinstance(entry, URLPattern) and "<id:" in route and not route.startswith("api"):
            yield route


@pytest.mark.parametrize("route", sorted(set(_id_paths())))
@pytest.mark.parametrize("number", [HUGE, HUGER])
def test_a_huge_id_in_a_portal_or_public_path_is_not_found(client, admin_client_or_none, route, number):
    path = "/" + route
    while "<id:" in path:
        start = path.index("<id:")
        path = path[:start] + number + path[path.index(">", start) + 1 :]
    while "<" in path:  # any other part (a slug, a panel name) gets a plain word
        start = path.index("<")
        path = path[:start] + "x" + path[path.index(">", start) + 1 :]
    answer = (admin_client_or_none or client).get(path)
    assert answer.status_code in (404, 405), (path, answer.status_code)


@pytest.fixture
def admin_client_or_none(django_user_model):
    from django.test import Client

    from opsportal.core.roles import Role
    from opsportal.core.services import SYSTEM, staff_set_role

    user = django_user_model.objects.create_user("huge-ids-admin")
    staff_set_role(actor=SYSTEM, user=user, role=Role.ADMIN)
    staff_client = Client()
    staff_client.force_login(user)
    return staff_client
