"""Response metrics over a period: MTTA, MTTR and SLA compliance per severity. Pure: no ORM."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from opsportal.incidents.sla import ClockState, IncidentTimes, SlaTargets, sla_clocks


@dataclass(frozen=True)
class SeverityMetrics:
    severity: str
    incidents: int
    mtta: timedelta | None  # mean detected -> acknowledged
    mttr: timedelta | None  # mean started -> resolved
    sla_compliance: float | None  # share of incidents with no breached clock, 0..1
    breaches: int


def _mean(values: list[timedelta]) -> timedelta | None:
    return sum(values, timedelta(0)) / len(values) if values else None


def severity_metrics(
    incidents: list[tuple[str, IncidentTimes]], targets: dict[str, SlaTargets], now
) -> list[SeverityMetrics]:
    """incidents: (severity, times) pairs. Clocks still running count only if already breached."""
    by_severity: dict[str, list[IncidentTimes]] = defaultdict(list)
    for severity, times in incidents:
        by_severity[severity].append(times)
    results = []
    for severity in sorted(targets):
        group = by_severity.get(severity, [])
        acks = [t.acknowledged_at - t.detected_at for t in group if t.acknowledged_at and t.detected_at]
        repairs = [t.resolved_at - t.started_at for t in group if t.resolved_at]
        breached = 0
        judged = 0
        for times in group:
            clocks = sla_clocks(times, targets[severity], now)
            if any(clock.state == ClockState.BREACHED for clock in clocks):
                breached += 1
                judged += 1
            elif times.resolved_at is not None:
                judged += 1
        results.append(
            SeverityMetrics(
                severity=severity,
                incidents=len(group),
                mtta=_mean(acks),
                mttr=_mean(repairs),
                sla_compliance=(judged - breached) / judged if judged else None,
                breaches=breached,
            )
        )
    return results
