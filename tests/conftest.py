"""Shared fixtures: personas (alice the admin, irene the commander, rob the responder, vera the viewer,
charlie the outsider), API tokens, and the tier switch."""

from __future__ import annotations

import os
from datetime import date, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from oncall import services as oncall_services
from oncall.models import Region, Team, TeamMembership
from opsportal.core.identity_services import api_token_create
from opsportal.core.models import StaffProfile
from opsportal.core.roles import Role
from opsportal.core.services import SYSTEM, staff_set_role

TIER2 = os.environ.get("DATABASE_URL", "").startswith("postgres") and bool(os.environ.get("REDIS_URL"))


def pytest_collection_modifyitems(config, items):
    skip_tier2 = pytest.mark.skip(reason="tier 2 only: set DATABASE_URL (PostgreSQL) and REDIS_URL")
    for item in items:
        if "tier2" in item.keywords and not TIER2:
            item.add_marker(skip_tier2)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    # Threads that touch the database (consumers, concurrency tests) must not keep connections open past
    # their work, or the test database cannot be dropped at the end of the run.
    from django.conf import settings

    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher is slow on purpose; tests check behaviour, not key stretching.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    # Tests roll back instead of committing, so on-commit cache invalidation never runs between them.
    from django.core.cache import cache

    from statuspage.public import cache as public_cache
    from statuspage.public import publishing

    cache.clear()
    public_cache._local.clear()
    if publishing._listener is not None:
        publishing._listener.version = None  # forget the version of the flushed cache
    yield


def staff_create(username: str, role: Role | None, *, time_zone: str = "UTC"):
    """A staff account with a profile and a role (None: an account with no role). make_staff, without the fixture,
    for module-scoped worlds."""
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@ops.example.com", password="correct horse battery"
    )
    StaffProfile.objects.create(user=user, time_zone=time_zone)
    if role is not None:
        staff_set_role(actor=SYSTEM, user=user, role=role)
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def make_staff(db):
    return staff_create


@pytest.fixture
def alice(make_staff):
    return make_staff("alice", Role.ADMIN)


@pytest.fixture
def irene(make_staff):
    return make_staff("irene", Role.INCIDENT_COMMANDER)


@pytest.fixture
def rob(make_staff):
    return make_staff("rob", Role.RESPONDER)


@pytest.fixture
def vera(make_staff):
    return make_staff("vera", Role.VIEWER)


@pytest.fixture
def charlie(make_staff):
    """Has an account but no role: an outsider to the portal."""
    return make_staff("charlie", None)


@pytest.fixture
def personas(alice, irene, rob, vera, charlie):
    return {"admin": alice, "incident_commander": irene, "responder": rob, "viewer": vera, "none": charlie}


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def make_token(db):
    def make(user, scopes, *, expires_in: timedelta | None = None, **kwargs) -> str:
        expires_at = timezone.now() + expires_in if expires_in else None
        _, plaintext = api_token_create(
            actor=SYSTEM,
            user=user,
            name=kwargs.pop("name", "test token"),
            scopes=scopes,
            expires_at=expires_at,
            **kwargs,
        )
        return plaintext

    return make


@pytest.fixture
def api():
    """A client for the partner API: api.get(path, token=...)."""

    class ApiClient:
        def __init__(self):
            self.client = Client()

        def _headers(self, token):
            return {"Authorization": f"Bearer {token}"} if token else {}

        def get(self, path, *, token=None, **kwargs):
            return self.client.get(path, headers=self._headers(token), **kwargs)

        def post(self, path, data=None, *, token=None, content_type="application/json", **kwargs):
            return self.client.post(
                path, data, content_type=content_type, headers=self._headers(token), **kwargs
            )

        def patch(self, path, data=None, *, token=None, content_type="application/json", **kwargs):
            return self.client.patch(
                path, data, content_type=content_type, headers=self._headers(token), **kwargs
            )

    return ApiClient()


# --- the on-call world: Payments across NA (rob, Toronto) and EU (ana, Dublin), one daily Toronto layer ---


@pytest.fixture
def ana(make_staff):
    return make_staff("ana", Role.RESPONDER, time_zone="Europe/Dublin")


@pytest.fixture
def team(rob, ana):
    na = Region.objects.create(code="NA", name="North America", time_zone="America/Toronto", position=0)
    eu = Region.objects.create(code="EU", name="Europe", time_zone="Europe/Dublin", position=1)
    payments = Team.objects.create(name="Payments", slug="payments")
    TeamMembership.objects.create(team=payments, user=rob, region=na)
    TeamMembership.objects.create(team=payments, user=ana, region=eu)
    return payments


@pytest.fixture
def schedule(team, rob, ana):
    made = oncall_services.schedule_create(
        actor=SYSTEM, name="Payments primary", slug="payments-primary", team=team
    )
    oncall_services.layer_create(
        actor=SYSTEM,
        schedule=made,
        name="Toronto",
        participants=[rob, ana],
        turn_count=1,
        turn_unit="days",
        handoff_time=time(9),
        start=date(2026, 10, 1),
        time_zone="America/Toronto",
    )
    return made
