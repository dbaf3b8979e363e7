"""The audit log records who changed what, and cannot be edited by any code path."""

import pytest
from django.db import DatabaseError, connection, transaction

from opsportal.core.models import AuditEntry
from opsportal.core.services import audit_record

pytestmark = pytest.mark.django_db


def test_audit_entries_carry_the_request_id(alice, client_for):
    client = client_for(alice)
    response = client.post(
        "/portal/tokens/",
        {"name": "CI deploys", "scopes": ["deploys:write"], "expires_in_days": "30"},
        headers={"X-Request-ID": "req-12345678"},
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="api_token.created")
    assert entry.request_id == "req-12345678"
    assert entry.actor_label == "alice"
    assert entry.after["scopes"] == ["deploys:write"]
    assert response["X-Request-ID"] == "req-12345678"


def test_audit_entries_cannot_be_changed_through_the_orm(alice):
    entry = audit_record(actor=alice, action="test.happened")
    entry.action = "test.rewritten"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="test.rewritten")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


def test_audit_entries_cannot_be_changed_with_raw_sql(alice):
    entry = audit_record(actor=alice, action="test.happened")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET action = %s WHERE id = %s", ["test.rewritten", entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.happened"


def test_admins_see_the_audit_log_and_others_do_not(alice, rob, client_for):
    audit_record(actor=alice, action="test.visible")
    assert b"test.visible" in client_for(alice).get("/portal/audit/").content
    assert client_for(rob).get("/portal/audit/").status_code == 403
