"""Routing rules, pure: operators, first match wins, and the errors a rule's author sees."""

from __future__ import annotations

from dataclasses import dataclass

from oncall.routing import condition_errors, fields_of, route_for


@dataclass
class Rule:
    name: str
    conditions: list


FIELDS = fields_of(
    severity="critical",
    source="db-1.eu",
    component="Checkout",
    summary="Disk full",
    labels={"region": "EU", "team": "payments"},
)


def test_route_for_first_match_wins():
    rules = [
        Rule("warnings", [{"field": "severity", "op": "equals", "value": "warning"}]),
        Rule("eu", [{"field": "labels.region", "op": "in", "value": ["EU", "UK"]}]),
        Rule("all", []),
    ]
    assert route_for(rules, FIELDS).name == "eu"


def test_route_for_none_when_nothing_matches():
    assert route_for([Rule("x", [{"field": "labels.nope", "op": "exists"}])], FIELDS) is None


def test_condition_operators():
    def holds(**condition):
        return route_for([Rule("r", [condition])], FIELDS) is not None

    assert holds(field="source", op="matches", value=r"db-\d+\.eu")
    assert not holds(field="source", op="matches", value=r"db")  # anchored, as Alertmanager's matchers
    assert holds(field="summary", op="contains", value="DISK")
    assert holds(field="labels.team", op="not_equals", value="search")
    assert holds(field="component", op="equals", value="Checkout")
    assert holds(field="labels.region", op="exists")


def test_condition_errors_name_each_problem():
    assert condition_errors([{"field": "severity", "op": "equals", "value": "critical"}]) == []
    assert condition_errors("nope") == ["Conditions are a list."]
    errors = condition_errors(
        [
            {"field": "colour", "op": "equals", "value": "x"},
            {"field": "source", "op": "matches", "value": "("},
            {"field": "source", "op": "equals", "value": "a\x00b"},
            {"field": "source", "op": "in", "value": "not a list"},
            {"field": "source", "op": "like", "value": "x"},
        ]
    )
    assert len(errors) == 5 and errors[0].startswith("Condition 1")
    assert condition_errors([{"field": "source", "op": "exists"}] * 21)
