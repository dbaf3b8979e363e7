"""Partners are their own principal: an organisation with contacts and tokens that reads the public view only;
staff tokens act with their holder's role as it is at each request."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from opsportal.core.identity_services import api_token_create, partner_create, partner_set_active
from opsportal.core.models import AuditEntry
from opsportal.core.roles import Role, role_of
from opsportal.core.services import SYSTEM, staff_set_role
from opsportal.incidents.services import incident_add_note, incident_declare, incident_post_update
from statuspage.models import Component

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return partner_create(actor=SYSTEM, name="Acme Payments", contacts=[("Ann Lee", "ann@acme.example")])


@pytest.fixture
def acme_token(acme):
    _, plaintext = api_token_create(
        actor=SYSTEM, partner=acme, name="status monitor", scopes="statuspage:read,subscribers:write"
    )
    return plaintext


@pytest.fixture
def incident(irene):
    checkout = Component.objects.create(name="Checkout")
    hidden = Component.objects.create(name="Ledger primary", showcase=False)
    incident = incident_declare(
        actor=irene,
        title="Ledger primary lost quorum",
        public_title="Payments are failing",
        summary="Failover stuck on replica lag",
        severity="P1",
        components=[(checkout, "major_outage"), (hidden, "major_outage")],
    )
    incident_add_note(actor=irene, incident=incident, body="Paged the DBA on call")
    incident_post_update(
        actor=irene,
        incident=incident,
        status="investigating",
        body="Some payments fail; we are on it.",
        component_statuses=[(checkout, "major_outage"), (hidden, "major_outage")],
    )
    return incident


def test_a_partner_reads_the_public_view_of_an_incident_and_nothing_internal(api, acme_token, incident):
    response = api.get(f"/api/v1/status/incidents/{incident.pk}/", token=acme_token)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Payments are failing" and body["status"] == "investigating"
    assert [c["name"] for c in body["components"]] == ["Checkout"]
    [update] = body["updates"]
    assert update["body"] == "Some payments fail; we are on it."
    assert [c["name"] for c in update["components"]] == ["Checkout"]
    text = response.content.decode()
    for internal in ("Ledger primary", "Failover stuck", "Paged the DBA", "irene", "author", "summary"):
        assert internal not in text
    listed = api.get("/api/v1/status/incidents/", token=acme_token).json()
    assert [row["id"] for row in listed["results"]] == [incident.pk]


def test_a_partner_cannot_use_the_staff_endpoints(api, acme_token, incident):
    for path in (
        f"/api/v1/incidents/{incident.pk}/",
        f"/api/v1/incidents/{incident.pk}/timeline/",
        "/api/v1/incidents/",
        "/api/v1/maintenance/",
        "/api/v1/oncall/teams/",
    ):
        response = api.get(path, token=acme_token)
        assert response.status_code == 403, path
        assert "public view" in response.json()["detail"]


def test_a_partner_sees_only_the_components_the_public_page_shows(api, acme_token):
    shown = Component.objects.create(name="Checkout")
    hidden = Component.objects.create(name="Ledger primary", showcase=False)
    names = [c["name"] for c in api.get("/api/v1/statuspage/components/", token=acme_token).json()["results"]]
    assert names == ["Checkout"]
    assert api.get(f"/api/v1/statuspage/components/{shown.pk}/", token=acme_token).status_code == 200
    assert api.get(f"/api/v1/statuspage/components/{hidden.pk}/", token=acme_token).status_code == 404


def test_partner_tokens_carry_only_partner_scopes(acme):
    with pytest.raises(ValidationError, match="public view"):
        api_token_create(actor=SYSTEM, partner=acme, name="too much", scopes="incidents:read")


def test_only_admins_manage_partners_and_their_tokens(rob, alice, acme):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        partner_create(actor=rob, name="Globex")
    with pytest.raises(PermissionDenied):
        api_token_create(actor=rob, partner=acme, name="x", scopes="statuspage:read")
    api_token_create(actor=alice, partner=acme, name="x", scopes="statuspage:read")
    assert AuditEntry.objects.filter(action="api_token.created", actor=alice).exists()


def test_a_deactivated_partner_loses_every_token_at_once(api, acme, acme_token):
    assert api.get("/api/v1/me/", token=acme_token).status_code == 200
    partner_set_active(actor=SYSTEM, partner=acme, active=False)
    response = api.get("/api/v1/me/", token=acme_token)
    assert response.status_code == 401
    assert "deactivated" in response.json()["detail"]
    partner_set_active(actor=SYSTEM, partner=acme, active=True)
    assert api.get("/api/v1/me/", token=acme_token).json()["partner"] == "Acme Payments"


def test_a_partner_account_is_never_staff(acme):
    with pytest.raises(ValidationError, match="never holds a staff role"):
        staff_set_role(actor=SYSTEM, user=acme.account, role=Role.ADMIN)
    assert role_of(acme.account) is None
    assert not acme.account.has_usable_password()


def test_lowering_a_role_takes_effect_at_once_on_an_existing_token(api, rob, make_token, incident):
    token = make_token(rob, "incidents:write,subscribers:write")
    detail = f"/api/v1/incidents/{incident.pk}/"
    assert api.get(detail, token=token).json()["summary"] == "Failover stuck on replica lag"
    note = {"body": "still here"}
    assert api.post(f"{detail}notes/", note, token=token).status_code == 201

    staff_set_role(actor=SYSTEM, user=rob, role=Role.VIEWER)
    assert api.get(detail, token=token).status_code == 200  # a viewer still reads
    refused = api.post(f"{detail}notes/", note, token=token)
    assert refused.status_code == 403 and "viewer" in refused.json()["detail"]
    sub = {"channel": "webhook", "address": "https://93.184.215.14/hook"}
    assert api.post("/api/v1/subscribers/", sub, token=token).status_code == 403

    staff_set_role(actor=SYSTEM, user=rob, role=None)
    for response in (api.get(detail, token=token), api.get(f"{detail}timeline/", token=token)):
        assert response.status_code == 403
        assert "Ledger" not in response.content.decode() and "Paged" not in response.content.decode()

    staff_set_role(actor=SYSTEM, user=rob, role=Role.RESPONDER)
    rob.is_active = False
    rob.save()
    assert api.get(detail, token=token).status_code == 401


def test_the_partners_command_creates_lists_and_deactivates(api):
    out, err = StringIO(), StringIO()
    call_command("partners", "create", "Globex Corp", "--contact", "Hank <hank@globex.example>", stdout=out)
    assert out.getvalue().strip() == "globex-corp"
    out = StringIO()
    call_command(
        "create_api_token", "--partner", "globex-corp", "--scopes", "statuspage:read", stdout=out, stderr=err
    )
    token = out.getvalue().strip()
    assert api.get("/api/v1/status/incidents/", token=token).status_code == 200
    out = StringIO()
    call_command("partners", "list", stdout=out)
    assert "Globex Corp\tactive\t1 tokens\tHank <hank@globex.example>" in out.getvalue()
    call_command("partners", "deactivate", "globex-corp", stdout=StringIO())
    assert api.get("/api/v1/status/incidents/", token=token).status_code == 401
    with pytest.raises(CommandError, match="No partner"):
        call_command("create_api_token", "--partner", "nobody", "--scopes", "statuspage:read")
    with pytest.raises(CommandError, match="not both"):
        call_command("create_api_token", "rob", "--partner", "globex-corp", "--scopes", "statuspage:read")
