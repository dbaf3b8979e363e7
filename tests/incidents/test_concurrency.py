"""Two people taking command at the same moment: one wins, the other gets a clear conflict (PostgreSQL)."""

import threading

import pytest
from django.db import connection

from opsportal.core.exceptions import Conflict
from opsportal.core.roles import Role
from opsportal.incidents import services
from opsportal.incidents.models import IncidentRole, RoleAssignment

pytestmark = [pytest.mark.tier2, pytest.mark.django_db(transaction=True)]


def test_concurrent_take_command_has_exactly_one_winner(make_staff, rob):
    contenders = [make_staff(f"ic{n}", Role.INCIDENT_COMMANDER) for n in range(4)]
    incident = services.incident_declare(actor=rob, title="Payments down", severity="P0")
    barrier = threading.Barrier(len(contenders))
    outcomes: dict[str, str] = {}

    def take_command(user):
        try:
            barrier.wait(timeout=10)
            services.incident_assign_role(
                actor=user, incident=incident, role=IncidentRole.COMMANDER, user=user
            )
            outcomes[user.username] = "won"
        except Conflict:
            outcomes[user.username] = "conflict"
        finally:
            connection.close()

    threads = [threading.Thread(target=take_command, args=(user,)) for user in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["conflict", "conflict", "conflict", "won"]
    [winner] = [name for name, outcome in outcomes.items() if outcome == "won"]
    active = RoleAssignment.objects.filter(incident=incident, role="commander", relieved_at__isnull=True)
    assert [a.user.username for a in active] == [winner]
    assert incident.timeline.filter(kind="role_assigned").count() == 1
