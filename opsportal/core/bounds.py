"""The numbers and dates opsportal accepts (pure: no Django). Ids fit a 64-bit column; dates and instants lie in
the years an operations tool can mean, far enough from year 1 and year 9999 that adding a horizon (a month of
rotations, a year of uptime) never overflows Python's datetime."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

MAX_ID = 2**63 - 1  # PostgreSQL bigint; SQLite's INTEGER is the same size
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)
# An instant written on a date from 2000 to 2099, at any UTC offset (so "2000-01-01T00:00+05:00" is in range,
# and the OpenAPI schema can say "years 2000 to 2099" with a pattern the server keeps exactly).
EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=UTC) - timedelta(days=1)
LATEST_INSTANT = datetime(2100, 1, 1, tzinfo=UTC) + timedelta(days=1)
MAX_POSITION = 2**31 - 1  # a PositiveIntegerField (display order) on PostgreSQL
MAX_PAGE = 1_000_000  # a page number past this is nonsense for any list we keep

DATE_RANGE_TEXT = f"between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}"


def date_in_range(value: date) -> bool:
    if isinstance(value, datetime):
        return instant_in_range(value)
    return EARLIEST_DATE <= value <= LATEST_DATE


def instant_in_range(value: datetime) -> bool:
    if value.tzinfo is None:  # a naive time: compare its wall clock with the UTC bounds
        return EARLIEST_INSTANT.replace(tzinfo=None) <= value < LATEST_INSTANT.replace(tzinfo=None)
    return EARLIEST_INSTANT <= value < LATEST_INSTANT


def date_param(raw: str | None) -> date | None:
    """A YYYY-MM-DD query parameter: None when absent; ValueError when malformed or out of range."""
    if not raw:
        return None
    value = date.fromisoformat(raw)
    if not date_in_range(value):
        raise ValueError(f"Give a date {DATE_RANGE_TEXT}.")
    return value
