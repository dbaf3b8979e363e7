"""The OpenAPI schema tells the truth: schemathesis drives every operation the URLconf holds with generated
requests (valid and invalid) and every one of its checks (schema conformance of each response, documented status
codes and content types, no 5xx, valid data accepted, invalid data refused, auth enforced, …), configured by
schemathesis.toml at the repository root, the same file `st run` reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings

from opsportal.core.scopes import ALL_SCOPES

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
# Small and derandomized: the same few examples per operation on every run, so CI stays within minutes on two
# cores. Raise it by hand (SCHEMATHESIS_EXAMPLES=100) when hunting.
MAX_EXAMPLES = 6
STATEFUL_SCENARIOS = 10


def _wsgi_app():
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


# Loaded when the module is collected, from the app itself: whatever the URLconf holds is in it.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/schema/", _wsgi_app(), config=schemathesis.Config.from_path(ROOT / "schemathesis.toml")
)


@pytest.fixture(scope="module")
def demo_rows(django_db_setup, django_db_blocker):
    """The demo's incidents, components, schedules and maintenance, loaded once for the module (each operation's
    test runs in a savepoint inside this transaction, which is rolled back at the end)."""
    from opsportal.demo.data import demo_load

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            demo_load()
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def live_data(demo_rows, db, settings):
    settings.API_TOKEN_RATE_PER_MINUTE = 1_000_000  # the run is a burst; 429 has its own test
    # As Django's test client does: requests run inside the test's transaction, so the connection stays open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# The token of the test being run. Handed to schemathesis as its auth (not as plain headers), so its auth checks
# know what to take away when they ask whether the API really refuses a request without it.
_current_token: dict[str, str] = {}
# Schemathesis draws its coverage cases when the module is collected, before any test has a token.
NOT_YET = "token-made-by-the-test"


@schema.auth()
class BearerToken:
    def get(self, case, context):
        return _current_token.get("value", NOT_YET)

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def admin_token(live_data, make_token):
    """An admin's token holding every scope, so each operation is reachable."""
    admin = get_user_model().objects.get(username="ana")  # the demo's admin
    _current_token["value"] = make_token(admin, list(ALL_SCOPES))
    yield
    _current_token.clear()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # Generation speed is schemathesis's business, not the API's.
    suppress_health_check=list(HealthCheck),
)
def test_api_matches_its_openapi_schema(case, admin_token):
    if (case.headers or {}).get("Authorization") == f"Bearer {NOT_YET}":
        case.headers["Authorization"] = f"Bearer {_current_token['value']}"
    case.call_and_validate()


def test_api_workflows_keep_to_the_schema(admin_token):
    """Stateful: chains of calls linked through the ids responses return (create, then read, change, delete),
    with the checks that only apply there (a created resource is found, a deleted one is gone)."""

    schema.as_state_machine().run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=4,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )


def test_schema_generates_without_warnings(tmp_path):
    # A warning means drf-spectacular guessed (an unknown field type, two serializers with one name): the
    # schema is then wrong somewhere schemathesis may not reach.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))
