"""Roles are cumulative groups; only admins change them; every change is audited."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from opsportal.core.models import AuditEntry
from opsportal.core.roles import Role, install_roles, permissions_for, role_of
from opsportal.core.services import staff_set_role

pytestmark = pytest.mark.django_db


def test_roles_are_cumulative():
    assert permissions_for(Role.VIEWER) == {"core.access_portal"}
    assert (
        permissions_for(Role.ADMIN)
        >= permissions_for(Role.INCIDENT_COMMANDER)
        >= permissions_for(Role.RESPONDER)
    )


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.VIEWER, {"core.access_portal"}),
        (Role.RESPONDER, {"core.access_portal", "core.respond"}),
        (Role.INCIDENT_COMMANDER, {"core.access_portal", "core.respond", "core.command_incidents"}),
        (Role.ADMIN, {"core.access_portal", "core.respond", "core.command_incidents", "core.administer"}),
    ],
)
def test_each_role_holds_exactly_its_permissions(make_staff, role, allowed):
    user = make_staff(f"someone-{role}", role)
    for permission in ("core.access_portal", "core.respond", "core.command_incidents", "core.administer"):
        assert user.has_perm(permission) is (permission in allowed), permission


def test_install_roles_is_idempotent():
    install_roles()
    install_roles()
    from django.contrib.auth.models import Group

    assert Group.objects.filter(name__in=[r.value for r in Role]).count() == 4


def test_admin_changes_a_role_and_it_is_audited(alice, rob):
    staff_set_role(actor=alice, user=rob, role=Role.INCIDENT_COMMANDER)
    assert role_of(rob) == Role.INCIDENT_COMMANDER
    entry = AuditEntry.objects.filter(action="staff.role_changed", object_id=str(rob.pk)).first()
    assert entry.actor == alice
    assert entry.before == {"role": "responder"} and entry.after == {"role": "incident_commander"}


def test_non_admins_cannot_change_roles(irene, rob):
    with pytest.raises(PermissionDenied):
        staff_set_role(actor=irene, user=rob, role=Role.ADMIN)
    assert role_of(rob) == Role.RESPONDER


def test_admin_cannot_demote_themselves(alice):
    with pytest.raises(ValidationError, match="yourself"):
        staff_set_role(actor=alice, user=alice, role=Role.VIEWER)
    assert role_of(alice) == Role.ADMIN
