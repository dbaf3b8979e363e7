"""/healthz and /readyz answer JSON a load balancer can act on."""

import pytest

from tests.conftest import TIER2


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: pytest-django fails the test if the view touches the database.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_channel_layer_and_broker(client_for, vera):
    response = client_for(vera).get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "channel_layer", "broker"}
    expected_layer = "RedisChannelLayer" if TIER2 else "EmbeddedChannelLayer"
    assert expected_layer in body["checks"]["channel_layer"]["detail"]
    if TIER2:
        assert body["checks"]["database"]["detail"] == "ok (postgresql)"
        assert body["checks"]["broker"]["detail"] == "ok (celery broker)"


@pytest.fixture
def broker_down(monkeypatch):
    from opsportal.core import health

    def check():
        raise ConnectionError("Error 111 connecting to redis-internal.prod.example:6379. Connection refused.")

    monkeypatch.setitem(health.CHECKS, "broker", check)


@pytest.mark.django_db
def test_readyz_tells_anonymous_callers_only_ok_or_not_per_check(client, broker_down, caplog):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "channel_layer": "ok", "broker": "error"},
    }
    assert "redis-internal" not in response.content.decode()
    # The operator still learns why, from the log.
    assert "redis-internal.prod.example" in caplog.text


@pytest.mark.django_db
def test_readyz_tells_non_staff_accounts_no_more_than_anonymous(client_for, charlie, broker_down):
    response = client_for(charlie).get("/readyz")
    assert response.json()["checks"]["broker"] == "error"


@pytest.mark.django_db
def test_readyz_tells_staff_what_failed(client_for, vera, broker_down):
    response = client_for(vera).get("/readyz")
    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["status"] == "error"
    assert broker["detail"].startswith("ConnectionError: Error 111 connecting to redis-internal")
