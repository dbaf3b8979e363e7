"""SLA clocks per severity: pure functions of an incident's timestamps and the policy's targets. No ORM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

WARNING_FRACTION = 0.8


class ClockName(StrEnum):
    DETECT = "detect"  # impact started -> we noticed
    RESPOND = "respond"  # we noticed -> a human acknowledged
    RESOLVE = "resolve"  # impact started -> resolved


class ClockState(StrEnum):
    PENDING = "pending"  # its start has not happened yet
    RUNNING = "running"
    WARNING = "warning"  # running, past 80 % of the target
    BREACHED = "breached"  # running or stopped, past the target
    MET = "met"  # stopped within the target


@dataclass(frozen=True)
class SlaTargets:
    detect: timedelta
    respond: timedelta
    resolve: timedelta

    def for_clock(self, name: ClockName) -> timedelta:
        return getattr(self, name.value)


@dataclass(frozen=True)
class IncidentTimes:
    started_at: datetime
    detected_at: datetime | None = None
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class SlaClock:
    name: ClockName
    target: timedelta
    state: ClockState
    started_at: datetime | None
    stopped_at: datetime | None
    elapsed: timedelta
    warning_at: datetime | None
    breach_at: datetime | None

    @property
    def remaining(self) -> timedelta:
        return self.target - self.elapsed

    @property
    def running(self) -> bool:
        return self.state in (ClockState.RUNNING, ClockState.WARNING) or (
            self.state == ClockState.BREACHED and self.stopped_at is None
        )

    @property
    def fraction(self) -> float:
        return self.elapsed / self.target if self.target else 1.0

    def crossings(self) -> list[str]:
        """The thresholds ('warning', 'breach') this clock has passed, running or stopped."""
        passed = []
        if self.started_at is None:
            return passed
        if self.elapsed >= self.target * WARNING_FRACTION:
            passed.append("warning")
        if self.elapsed >= self.target:
            passed.append("breach")
        return passed


def _bounds(name: ClockName, times: IncidentTimes) -> tuple[datetime | None, datetime | None]:
    if name == ClockName.DETECT:
        return times.started_at, times.detected_at
    if name == ClockName.RESPOND:
        return times.detected_at, times.acknowledged_at
    return times.started_at, times.resolved_at


def sla_clock(name: ClockName, times: IncidentTimes, targets: SlaTargets, now: datetime) -> SlaClock:
    target = targets.for_clock(name)
    start, stop = _bounds(name, times)
    if start is None:
        return SlaClock(name, target, ClockState.PENDING, None, None, timedelta(0), None, None)
    end = stop if stop is not None else now
    elapsed = max(end - start, timedelta(0))
    if elapsed >= target:
        state = ClockState.BREACHED
    elif stop is not None:
        state = ClockState.MET
    elif elapsed >= target * WARNING_FRACTION:
        state = ClockState.WARNING
    else:
        state = ClockState.RUNNING
    return SlaClock(
        name=name,
        target=target,
        state=state,
        started_at=start,
        stopped_at=stop,
        elapsed=elapsed,
        warning_at=start + target * WARNING_FRACTION,
        breach_at=start + target,
    )


def sla_clocks(times: IncidentTimes, targets: SlaTargets, now: datetime) -> tuple[SlaClock, ...]:
    return tuple(sla_clock(name, times, targets, now) for name in ClockName)


def next_crossing(clocks: tuple[SlaClock, ...], now: datetime) -> datetime | None:
    """When the next warning or breach of a running clock falls due: when the checker should look again."""
    upcoming = [
        moment
        for clock in clocks
        if clock.running and clock.stopped_at is None
        for moment in (clock.warning_at, clock.breach_at)
        if moment is not None and moment > now
    ]
    return min(upcoming, default=None)
