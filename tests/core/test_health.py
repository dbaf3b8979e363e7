"""/healthz and /readyz answer JSON a load balancer can act on."""

import pytest

from tests.conftest import TIER2


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: pytest-django fails the test if the view touches the database.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_channel_layer_and_broker(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "channel_layer", "broker"}
    expected_layer = "RedisChannelLayer" if TIER2 else "EmbeddedChannelLayer"
    assert expected_layer in body["checks"]["channel_layer"]["detail"]
    if TIER2:
        assert body["checks"]["database"]["detail"] == "ok (postgresql)"
        assert body["checks"]["broker"]["detail"] == "ok (celery broker)"


@pytest.mark.django_db
def test_readyz_says_unavailable_when_a_dependency_is_down(client, monkeypatch):
    from opsportal.core import health

    def broker_down():
        raise ConnectionError("Connection refused")

    monkeypatch.setitem(health.CHECKS, "broker", broker_down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {
        "status": "error",
        "detail": "ConnectionError: Connection refused",
        "ms": response.json()["checks"]["broker"]["ms"],
    }
