"""Each token has its own request budget; beyond it, 429 with Retry-After."""

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_throttle_state():
    cache.clear()
    yield
    cache.clear()


def test_a_token_over_its_budget_gets_429_with_retry_after(api, rob, make_token, settings):
    settings.API_TOKEN_RATE_PER_MINUTE = 3
    token = make_token(rob, "oncall:read")
    statuses = [api.get("/api/v1/oncall/regions/", token=token).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/v1/oncall/regions/", token=token)
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["retry_after"] == int(response["Retry-After"])


def test_budgets_are_per_token(api, rob, make_token, settings):
    settings.API_TOKEN_RATE_PER_MINUTE = 2
    first = make_token(rob, "oncall:read", name="first")
    second = make_token(rob, "oncall:read", name="second")
    assert [api.get("/api/v1/oncall/regions/", token=first).status_code for _ in range(3)] == [200, 200, 429]
    assert api.get("/api/v1/oncall/regions/", token=second).status_code == 200


def test_a_token_can_carry_its_own_limit(api, rob, make_token, settings):
    settings.API_TOKEN_RATE_PER_MINUTE = 100
    token = make_token(rob, "oncall:read", rate_limit_per_minute=1)
    assert [api.get("/api/v1/oncall/regions/", token=token).status_code for _ in range(2)] == [200, 429]
