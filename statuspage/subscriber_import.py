"""CSV import of subscribers by staff, all or nothing: every bad row is reported and none is imported.
Imported rows are confirmed (staff vouch for them)."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsportal.core.forms import refusal_text
from opsportal.core.roles import ADMINISTER
from opsportal.core.services import audit_record, require_permission
from statuspage.models import Component, Subscriber, SubscriberChannel
from statuspage.subscriber_selectors import subscribers_for_components  # noqa: F401  (part of this API)
from statuspage.subscriptions import subscriber_normalise_address

MAX_IMPORT_ROWS = 50_000


@dataclass
class ImportResult:
    imported: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why): already subscribed
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, why): nothing was imported


def _parse_import(text: str) -> tuple[list[tuple[int, str, str, list[int]]], ImportResult]:
    result = ImportResult()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if "channel" not in header or "address" not in header:
        result.errors.append((1, "The first line must be the header: channel,address,components"))
        return [], result
    at = {name: header.index(name) for name in ("channel", "address", "components") if name in header}
    by_name = {name.lower(): pk for pk, name in Component.objects.values_list("pk", "name")}
    rows: list[tuple[int, str, str, list[int]]] = []
    seen: dict[tuple[str, str], int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            result.errors.append((line, f"Too many rows: import at most {MAX_IMPORT_ROWS} at a time."))
            break

        def cell(name: str, cells=cells) -> str:
            index = at.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        channel = cell("channel").lower()
        try:
            # No DNS here (thousands of rows); literal private IPs are still refused, and every webhook
            # send checks the resolved address again.
            address = subscriber_normalise_address(channel=channel, address=cell("address"), resolve=False)
        except ValidationError as exc:
            result.errors.append((line, refusal_text(exc)))
            continue
        names = [name.strip() for name in cell("components").split(";") if name.strip()]
        unknown = [name for name in names if name.lower() not in by_name]
        if unknown:
            result.errors.append((line, f"Unknown component(s): {', '.join(unknown)}."))
            continue
        if (channel, address) in seen:
            result.errors.append((line, f"Same {channel} address as line {seen[channel, address]}."))
            continue
        seen[channel, address] = line
        rows.append((line, channel, address, sorted({by_name[name.lower()] for name in names})))
    return rows, result


@transaction.atomic
def subscriber_import_csv(*, actor, text: str) -> ImportResult:
    """All or nothing: if any row is bad, nothing is imported and every bad row is reported by line."""
    require_permission(actor, ADMINISTER)
    rows, result = _parse_import(text)
    if result.errors:
        return result
    active: set[tuple[str, str]] = set()
    addresses = [address for _, _, address, _ in rows]
    for start in range(0, len(addresses), 500):
        active.update(
            Subscriber.objects.filter(
                unsubscribed_at__isnull=True, address__in=addresses[start : start + 500]
            ).values_list("channel", "address")
        )
    now = timezone.now()
    fresh = []
    for line, channel, address, component_ids in rows:
        if (channel, address) in active:
            result.skipped.append((line, "Already subscribed; left as it is."))
            continue
        subscriber = Subscriber(
            channel=channel,
            address=address,
            confirmed_at=now,
            created_at=now,
            secret=secrets.token_hex(32) if channel == SubscriberChannel.WEBHOOK else "",
        )
        fresh.append((subscriber, component_ids))
    try:
        with transaction.atomic():
            Subscriber.objects.bulk_create([s for s, _ in fresh], batch_size=1000)
    except IntegrityError:
        result.errors.append((0, "Some of these addresses were subscribed meanwhile; import the file again."))
        return result
    through = Subscriber.components.through
    through.objects.bulk_create(
        [through(subscriber_id=s.pk, component_id=c) for s, ids in fresh for c in ids], batch_size=2000
    )
    result.imported = len(fresh)
    audit_record(
        actor=actor,
        action="subscriber.imported",
        after={"imported": result.imported, "skipped": len(result.skipped)},
    )
    return result
