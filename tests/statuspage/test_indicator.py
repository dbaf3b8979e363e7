"""The overall indicator picks the worst signal and speaks Statuspage's words. Pure."""

import pytest

from statuspage.indicator import incident_impact, overall_indicator


@pytest.mark.parametrize(
    ("components", "impacts", "maintenance", "expected"),
    [
        ([], [], False, ("none", "All Systems Operational")),
        (["operational", "operational"], [], False, ("none", "All Systems Operational")),
        (["operational", "under_maintenance"], [], False, ("maintenance", "Service Under Maintenance")),
        (["operational"], [], True, ("maintenance", "Service Under Maintenance")),
        (["degraded_performance", "under_maintenance"], [], True, ("minor", "Minor Service Outage")),
        (["partial_outage"], ["minor"], False, ("major", "Partial System Outage")),
        (["operational"], ["critical"], False, ("critical", "Major System Outage")),
        (["major_outage", "partial_outage"], ["minor"], True, ("critical", "Major System Outage")),
    ],
)
def test_the_worst_signal_wins(components, impacts, maintenance, expected):
    assert (
        overall_indicator(
            component_statuses=components, incident_impacts=impacts, maintenance_in_progress=maintenance
        )
        == expected
    )


def test_incident_impact_follows_severity():
    assert [incident_impact(s) for s in ("P0", "P1", "P2", "P3", "P4")] == [
        "critical",
        "major",
        "minor",
        "none",
        "none",
    ]
