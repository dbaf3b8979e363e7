"""Routing rules: which rule an alert matches, first match wins. Pure: no ORM, no framework."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol, TypeVar

FIELDS = ("severity", "source", "component", "summary", "group", "class")
LABEL_PREFIX = "labels."
OPERATORS = ("equals", "not_equals", "contains", "matches", "in", "exists")
MAX_CONDITIONS = 20
MAX_PATTERN = 200
MAX_VALUE = 1024
MAX_IN_VALUES = 100
MAX_LABEL_NAME = 100


class HasConditions(Protocol):
    conditions: list


R = TypeVar("R", bound=HasConditions)


def fields_of(
    *,
    severity: str,
    source: str = "",
    component: str = "",
    summary: str = "",
    group: str = "",
    event_class: str = "",
    labels: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The flat field map rules match on: the event's own fields, and each label as labels.<name>."""
    fields = {
        "severity": severity,
        "source": source,
        "component": component,
        "summary": summary,
        "group": group,
        "class": event_class,
    }
    for name, value in (labels or {}).items():
        fields[LABEL_PREFIX + str(name)] = str(value)
    return fields


@lru_cache(maxsize=512)
def _pattern(text: str) -> re.Pattern:
    return re.compile(text)


def condition_holds(condition: Mapping[str, Any], fields: Mapping[str, str]) -> bool:
    name, op, expected = condition["field"], condition["op"], condition.get("value")
    present = name in fields and fields[name] != ""
    actual = fields.get(name, "")[:MAX_VALUE]
    if op == "exists":
        return present
    if op == "equals":
        return actual == expected
    if op == "not_equals":
        return actual != expected
    if op == "contains":
        return str(expected).lower() in actual.lower()
    if op == "in":
        return actual in expected
    if op == "matches":
        # Anchored as Alertmanager anchors its regex matchers.
        return _pattern(str(expected)).fullmatch(actual) is not None
    raise ValueError(f"unknown operator {op!r}")


def rule_matches(conditions: Sequence[Mapping[str, Any]], fields: Mapping[str, str]) -> bool:
    """Every condition holds; a rule without conditions matches everything."""
    return all(condition_holds(condition, fields) for condition in conditions)


def route_for(routes: Sequence[R], fields: Mapping[str, str]) -> R | None:
    """The first route whose conditions all hold, or None (the integration's default route applies)."""
    for route in routes:
        if rule_matches(route.conditions, fields):
            return route
    return None


def condition_errors(conditions: Any) -> list[str]:
    """What is wrong with a rule's conditions, in words for the person who wrote them; [] when fine."""
    if not isinstance(conditions, list):
        return ["Conditions are a list."]
    if len(conditions) > MAX_CONDITIONS:
        return [f"At most {MAX_CONDITIONS} conditions in one rule."]
    errors = []
    for number, condition in enumerate(conditions, start=1):
        if not isinstance(condition, dict) or not {"field", "op"} <= condition.keys() or len(condition) > 3:
            errors.append(f"Condition {number}: give a field, an operator and (except for exists) a value.")
            continue
        name, op, value = condition["field"], condition["op"], condition.get("value")
        if not isinstance(name, str) or not (
            name in FIELDS
            or (name.startswith(LABEL_PREFIX) and 0 < len(name) - len(LABEL_PREFIX) <= MAX_LABEL_NAME)
        ):
            errors.append(f"Condition {number}: the field is one of {', '.join(FIELDS)} or labels.<name>.")
        if op not in OPERATORS:
            errors.append(f"Condition {number}: the operator is one of {', '.join(OPERATORS)}.")
            continue
        if op == "exists":
            continue
        if op == "in":
            if (
                not isinstance(value, list)
                or len(value) > MAX_IN_VALUES
                or not all(isinstance(v, str) and len(v) <= MAX_VALUE for v in value)
            ):
                errors.append(f"Condition {number}: 'in' takes a list of at most {MAX_IN_VALUES} texts.")
            continue
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            errors.append(f"Condition {number}: the value is a text of at most {MAX_VALUE} characters.")
            continue
        if op == "matches":
            if len(value) > MAX_PATTERN:
                errors.append(f"Condition {number}: keep the pattern under {MAX_PATTERN} characters.")
                continue
            try:
                re.compile(value)
            except re.error as exc:
                errors.append(f"Condition {number}: the pattern is not a valid regular expression ({exc}).")
        if any(ord(ch) < 32 for ch in value):
            errors.append(f"Condition {number}: the value has control characters.")
    return errors


def fields_of_event(event) -> dict[str, str]:
    """The fields of an InboundEvent, as ingestion routes it (and the portal's rule tester shows it)."""
    return fields_of(
        severity=event.severity,
        source=event.source,
        component=event.component,
        summary=event.summary,
        group=event.group,
        event_class=event.event_class,
        labels=event.labels,
    )
