"""Subscribers page: who hears from the status page, filtered by channel and status with counts; CSV export
for staff and all-or-nothing CSV import for admins. Thin: the subscription services and selectors decide."""

from __future__ import annotations

import csv
import re

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from opsportal.core.keyset import keyset_page
from opsportal.core.roles import ADMINISTER
from opsportal.core.services import audit_record
from opsportal.portal import subscriber_forms as f
from opsportal.portal.access import staff_required
from statuspage.models import SubscriberChannel, SubscriberStatus
from statuspage.subscriber_import import subscriber_import_csv
from statuspage.subscriber_selectors import subscriber_counts, subscriber_list

PAGE_SIZE = 50  # rows a page renders; the counts above cover every row
EXPORT_COLUMNS = [
    "id",
    "channel",
    "address",
    "status",
    "components",
    "owner",
    "confirmed_at",
    "unsubscribed_at",
    "quarantined_at",
    "quarantine_reason",
    "created_at",
    "created_ip",
]
PHONE = re.compile(r"^\+\d+$")


def _filters(request) -> tuple[f.SubscriberFilterForm, dict]:
    form = f.SubscriberFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, {key: value for key, value in form.cleaned_data.items() if value}
    return form, {}


@staff_required()
def subscriber_list_view(request):
    form, filters = _filters(request)
    # Keyset pages off the (created_at, id) index: no OFFSET and no COUNT(*) of the filtered list (issue 11).
    page = keyset_page(
        subscriber_list(**filters),
        field="created_at",
        size=PAGE_SIZE,
        older=request.GET.get("older"),
        newer=request.GET.get("newer"),
    )
    query = request.GET.copy()
    for key in ("page", "older", "newer"):
        query.pop(key, None)
    return render(
        request,
        "portal/subscribers/list.html",
        {
            "form": form,
            "page": page,
            "counts": subscriber_counts(),
            "statuses": SubscriberStatus.choices,
            "channels": SubscriberChannel.choices,
            "query": query.urlencode(),
            "may_import": request.user.has_perm(ADMINISTER),
        },
    )


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells starting with these as formulas; phone numbers (+digits) are data, not formulas.
    if text[:1] in ("=", "@", "-", "\t", "\r") or (text[:1] == "+" and not PHONE.match(text)):
        return "'" + text
    return text


def _export_rows(rows):
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for s in rows.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                _cell(v)
                for v in (
                    s.pk,
                    s.channel,
                    s.address,
                    s.status,
                    ";".join(c.name for c in s.components.all()),
                    s.owner.get_username() if s.owner_id else "",
                    s.confirmed_at.isoformat() if s.confirmed_at else "",
                    s.unsubscribed_at.isoformat() if s.unsubscribed_at else "",
                    s.quarantined_at.isoformat() if s.quarantined_at else "",
                    s.quarantine_reason,
                    s.created_at.isoformat(),
                    s.created_ip or "",
                )
            ]
        )


@staff_required(ADMINISTER)
def subscriber_export(request):
    """Every column but the webhook secrets. Admins only, and audited: it is a bulk copy of personal data."""
    _, filters = _filters(request)
    audit_record(actor=request.user, action="subscriber.exported", after={"filters": filters})
    response = StreamingHttpResponse(_export_rows(subscriber_list(**filters)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="subscribers-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response


@staff_required(ADMINISTER)
def subscriber_import(request):
    result = None
    status = 200
    if request.method == "POST":
        form = f.SubscriberImportForm(request.POST, request.FILES)
        if form.is_valid():
            result = subscriber_import_csv(actor=request.user, text=form.cleaned_data["file"])
            if result.errors:
                status = 400
        else:
            status = 400
    else:
        form = f.SubscriberImportForm()
    return render(request, "portal/subscribers/import.html", {"form": form, "result": result}, status=status)
