"""The delivery log: every notification, how far its fan-out has got, and each recipient's state."""

from __future__ import annotations

import functools
import re

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from opsportal.core.exceptions import Conflict
from opsportal.core.forms import refusal_text
from opsportal.core.roles import ADMINISTER
from opsportal.notifications import selectors, services
from opsportal.notifications.models import Channel, Delivery, Message
from opsportal.portal.access import staff_required


@staff_required()
def delivery_log(request):
    kind = request.GET.get("kind", "")
    page = Paginator(selectors.messages_with_counts(kind=kind), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/deliveries/list.html",
        {"page": page, "kinds": selectors.message_kinds(), "kind": kind},
    )


_TOKEN = "TOKEN-SLOT"  # noqa: S105 (a placeholder in a URL pattern, not a secret)
HIDDEN = "[link hidden]"
_SIGNED_VALUE = r"[^\s/\"'<>:]+:[^\s/\"'<>]+"  # Django's signer: "<value>:<signature>", never a slash


@functools.cache
def _signed_link_patterns() -> list[re.Pattern]:
    """Subscription links carry a signed token ("<id>:<signature>") that acts for the recipient: confirm,
    manage, unsubscribe. The log shows that a message had such a link, never the token itself."""
    patterns = []
    for name in ("subscription_confirm", "subscription_manage", "subscription_unsubscribe"):
        before, _, after = reverse(name, args=[_TOKEN]).partition(_TOKEN)
        patterns.append(re.compile(f"({re.escape(before)}){_SIGNED_VALUE}({re.escape(after)})"))
    return patterns


def without_signed_links(text: str) -> str:
    for pattern in _signed_link_patterns():
        text = pattern.sub(rf"\g<1>{HIDDEN}\g<2>", text)
    return text


@staff_required()
def message_detail(request, message_id: int):
    message = get_object_or_404(Message, pk=message_id)
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    deliveries = Paginator(selectors.message_deliveries(message, status=status, channel=channel), 50)
    return render(
        request,
        "portal/deliveries/detail.html",
        {
            "message": message,
            "message_text": without_signed_links(message.text_body or ""),
            "counts": selectors.message_counts(message),
            "page": deliveries.get_page(request.GET.get("page")),
            "status": status,
            "channel": channel,
            "statuses": Delivery.Status.choices,
            "channels": Channel.choices,
        },
    )


@staff_required()
def message_progress(request, message_id: int):
    """Counts as JSON: the progress bar polls this when the live socket is down."""
    message = get_object_or_404(Message, pk=message_id)
    return JsonResponse({"message": message.pk, "counts": selectors.message_counts(message)})


@require_POST
@staff_required(ADMINISTER)
def delivery_retry(request, delivery_id: int):
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    try:
        retried = services.delivery_retry(actor=request.user, delivery=delivery)
    except (ValidationError, Conflict) as exc:
        flash.error(request, refusal_text(exc))
    else:
        if retried:
            flash.success(request, f"Delivery to {delivery.address} will be retried now.")
        else:
            flash.error(request, "Only failed or cancelled deliveries can be retried.")
    return redirect("portal:message_detail", message_id=delivery.message_id)


@require_POST
@staff_required(ADMINISTER)
def message_cancel(request, message_id: int):
    message = get_object_or_404(Message, pk=message_id)
    try:
        cancelled = services.message_cancel(actor=request.user, message=message)
    except (ValidationError, Conflict) as exc:
        flash.error(request, refusal_text(exc))
    else:
        flash.success(request, f"Cancelled {cancelled} deliveries that had not gone out yet.")
    return redirect("portal:message_detail", message_id=message.pk)
