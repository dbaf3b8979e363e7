"""Keyset pagination for lists that grow with history, newest first: a page is "the next 50 older (or newer)
than this row", read straight off an index on (timestamp, id). No OFFSET, no COUNT(*) over the whole table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import BadRequest
from django.db.models import Q, QuerySet

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_CURSOR = 40  # characters: two integers


@dataclass(frozen=True)
class KeysetPage:
    rows: list
    older: str | None  # cursor of the next page (older rows), None on the last page
    newer: str | None  # cursor of the previous page (newer rows), None on the first page

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def cursor_of(when: datetime, pk: int) -> str:
    """A row's place in the order as two integers (microseconds since the epoch, id): URL-safe, no time zone."""
    delta = when - EPOCH
    return f"{(delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds}.{pk}"


def _parse(cursor: str) -> tuple[datetime, int]:
    micros, _, pk = cursor.partition(".")
    if (
        len(cursor) > MAX_CURSOR
        or not (micros.lstrip("-").isascii() and micros.lstrip("-").isdigit())
        or not (pk.isascii() and pk.isdigit())
    ):
        raise BadRequest("This page link is not one we made; start again from the first page.")
    try:
        return EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except OverflowError:
        raise BadRequest("This page link is not one we made; start again from the first page.") from None


def keyset_page(
    rows: QuerySet, *, field: str, size: int, older: str | None = None, newer: str | None = None
) -> KeysetPage:
    """`size` rows of `rows` ordered by (field, id) descending: the first page, the page older than the
    cursor `older`, or the page newer than the cursor `newer`. A malformed cursor is a 400 (BadRequest)."""
    if newer:
        when, pk = _parse(newer)
        after = Q(**{f"{field}__gt": when}) | Q(**{field: when, "pk__gt": pk})
        found = list(rows.filter(after).order_by(field, "pk")[: size + 1])
        if len(found) <= size:  # back at the newest rows: the first page, full
            return keyset_page(rows, field=field, size=size)
        page = found[:size][::-1]
        return KeysetPage(
            rows=page,
            older=_cursor(page[-1], field) if page else None,
            newer=_cursor(page[0], field),
        )
    if older:
        when, pk = _parse(older)
        rows = rows.filter(Q(**{f"{field}__lt": when}) | Q(**{field: when, "pk__lt": pk}))
    found = list(rows.order_by(f"-{field}", "-pk")[: size + 1])
    page = found[:size]
    return KeysetPage(
        rows=page,
        older=_cursor(page[-1], field) if len(found) > size else None,
        newer=_cursor(page[0], field) if older and page else None,
    )


def _cursor(row, field: str) -> str:
    return cursor_of(getattr(row, field), row.pk)
