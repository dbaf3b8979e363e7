"""The transition table, checked pair by pair against the expected lifecycle. Pure: no database."""

import itertools

import pytest

from opsportal.incidents.lifecycle import (
    IllegalTransition,
    IncidentStatus,
    can_transition,
    check_transition,
    internal_status_for_public,
    public_status,
)

S = IncidentStatus
# Written out independently of the module: every legal move, nothing else.
LEGAL = {
    (S.TRIAGE, S.INVESTIGATING),
    (S.TRIAGE, S.IDENTIFIED),
    (S.TRIAGE, S.MONITORING),
    (S.TRIAGE, S.RESOLVED),
    (S.TRIAGE, S.DECLINED),
    (S.TRIAGE, S.MERGED),
    (S.INVESTIGATING, S.IDENTIFIED),
    (S.INVESTIGATING, S.MONITORING),
    (S.INVESTIGATING, S.RESOLVED),
    (S.INVESTIGATING, S.MERGED),
    (S.IDENTIFIED, S.INVESTIGATING),
    (S.IDENTIFIED, S.MONITORING),
    (S.IDENTIFIED, S.RESOLVED),
    (S.IDENTIFIED, S.MERGED),
    (S.MONITORING, S.INVESTIGATING),
    (S.MONITORING, S.IDENTIFIED),
    (S.MONITORING, S.RESOLVED),
    (S.RESOLVED, S.INVESTIGATING),
    (S.RESOLVED, S.CLOSED),
}
ALL_PAIRS = list(itertools.product(S, S))


@pytest.mark.parametrize(("current", "requested"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_pair_is_legal_exactly_when_the_table_says(current, requested):
    legal = (current, requested) in LEGAL
    assert can_transition(current, requested) is legal
    if legal:
        check_transition(current, requested)
    else:
        with pytest.raises(IllegalTransition) as raised:
            check_transition(current, requested)
        assert f"from {current.value} to {requested.value}" in str(raised.value)


def test_final_states_say_so():
    for final in (S.CLOSED, S.DECLINED, S.MERGED):
        with pytest.raises(IllegalTransition, match="it is final"):
            check_transition(final, S.INVESTIGATING)


def test_no_status_moves_to_itself():
    assert not any(can_transition(s, s) for s in S)


@pytest.mark.parametrize(
    ("status", "published", "expected"),
    [
        (S.TRIAGE, False, "investigating"),
        (S.INVESTIGATING, False, "investigating"),
        (S.IDENTIFIED, False, "identified"),
        (S.MONITORING, False, "monitoring"),
        (S.RESOLVED, False, "resolved"),
        (S.CLOSED, False, "resolved"),
        (S.CLOSED, True, "postmortem"),
        (S.RESOLVED, True, "postmortem"),
        (S.MERGED, False, "resolved"),
        (S.DECLINED, False, None),
    ],
)
def test_public_vocabulary_is_statuspages(status, published, expected):
    assert public_status(status, postmortem_published=published) == expected


def test_public_update_statuses_map_back_and_reject_others():
    assert internal_status_for_public("monitoring") == S.MONITORING
    for bad in ("postmortem", "triage", "closed", ""):
        with pytest.raises(ValueError, match="public update"):
            internal_status_for_public(bad)


def test_lifecycle_final_statuses_are_the_ones_the_table_leads_nowhere_from():
    from opsportal.incidents.lifecycle import FINAL

    assert {S.CLOSED, S.DECLINED, S.MERGED} == FINAL
    assert all(not can_transition(final, other) for final in FINAL for other in S)


def test_lifecycle_status_sets_agree_with_the_table():
    from opsportal.incidents.lifecycle import (
        ACTIVE,
        COMMANDED,
        NEVER_PUBLIC,
        POSTMORTEM_PUBLISHABLE,
        TAKES_COMMANDER,
    )

    assert ACTIVE - {S.TRIAGE} == COMMANDED
    assert ACTIVE | {S.RESOLVED} == TAKES_COMMANDER
    assert POSTMORTEM_PUBLISHABLE.isdisjoint(ACTIVE)
    assert all(public_status(status) is None for status in NEVER_PUBLIC)


@pytest.mark.parametrize(
    ("status", "default"),
    [
        (S.TRIAGE, "investigating"),
        (S.INVESTIGATING, "investigating"),
        (S.IDENTIFIED, "identified"),
        (S.MONITORING, "monitoring"),
        (S.RESOLVED, "resolved"),
        (S.CLOSED, "investigating"),
    ],
)
def test_lifecycle_public_update_default_starts_where_the_incident_is(status, default):
    from opsportal.incidents.lifecycle import public_update_default

    assert public_update_default(status) == default
