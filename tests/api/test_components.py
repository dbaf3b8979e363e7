"""Components through API v1: read with statuspage:read, change status with statuspage:write."""

import pytest

from opsportal.core.models import AuditEntry
from statuspage.models import Component

pytestmark = pytest.mark.django_db


def _patch(api, url, data, token):
    return api.client.patch(
        url, data=data, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )


def test_a_write_token_changes_a_status_which_is_recorded_and_audited(api, rob, make_token):
    component = Component.objects.create(name="Checkout")
    token = make_token(rob, "statuspage:write", name="payments monitor")
    response = _patch(
        api, f"/api/v1/statuspage/components/{component.pk}/", {"status": "major_outage"}, token
    )
    assert response.status_code == 200
    assert response.json()["status"] == "major_outage"
    change = component.status_changes.get()
    assert (change.previous_status, change.status) == ("operational", "major_outage")
    entry = AuditEntry.objects.get(action="component.status_changed")
    assert entry.actor == rob and entry.after == {"status": "major_outage"}


def test_a_read_token_cannot_change_a_status(api, rob, make_token):
    component = Component.objects.create(name="Checkout")
    token = make_token(rob, "statuspage:read")
    response = _patch(
        api, f"/api/v1/statuspage/components/{component.pk}/", {"status": "major_outage"}, token
    )
    assert response.status_code == 403
    component.refresh_from_db()
    assert component.status == "operational"


def test_a_missing_component_is_a_404_problem(api, rob, make_token):
    token = make_token(rob, "statuspage:read")
    response = api.get("/api/v1/statuspage/components/999999/", token=token)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_the_component_list_uses_a_constant_number_of_queries(
    api, rob, make_token, django_assert_max_num_queries
):
    Component.objects.bulk_create([Component(name=f"C{n}") for n in range(25)])
    token = make_token(rob, "statuspage:read")
    with django_assert_max_num_queries(6):
        assert api.get("/api/v1/statuspage/components/", token=token).status_code == 200
