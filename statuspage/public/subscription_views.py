"""Public subscription pages (no login): subscribe, confirm, manage, one-click unsubscribe.

Public pages are cached and shared, so they carry no CSRF token: the subscribe POST is csrf_exempt and is
guarded instead by per-IP and per-address rate limits, a honeypot field and double opt-in. The confirm,
manage and unsubscribe pages are authorised by the signed token in their URL, which a forging site cannot
know, so they need no CSRF token either (and one-click unsubscribe, RFC 8058, must work without one)."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from opsportal.core.client_address import UNKNOWN, client_address
from opsportal.core.exceptions import Conflict
from opsportal.core.forms import add_service_errors, refusal_text
from statuspage import subscriptions
from statuspage.public.cache import cached_public_response
from statuspage.public.forms import ManageSubscriptionForm, SubscribeForm

RATE_WINDOW_SECONDS = 3600


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _over_limit(kind: str, key: str, limit: int) -> bool:
    """Count one attempt in this hour's fixed window; True once past the limit. Counters live in the
    shared cache, so every process (and every server) counts together."""
    bucket = int(time.time() // RATE_WINDOW_SECONDS)
    # Hash the key: no email addresses or phone numbers in cache keys.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    counter = f"statuspage:subscribe:{kind}:{digest}:{bucket}"
    cache.add(counter, 0, RATE_WINDOW_SECONDS + 60)
    try:
        count = cache.incr(counter)
    except ValueError:  # expired between add and incr
        cache.set(counter, 1, RATE_WINDOW_SECONDS + 60)
        count = 1
    return count > limit


def _page(request, template: str, context: dict | None = None, *, status: int = 200):
    return render(request, template, {"rendered_at": timezone.now(), **(context or {})}, status=status)


def _too_many(request, detail: str):
    response = _page(request, "statuspage/subscribe_limited.html", {"detail": detail}, status=429)
    response["Retry-After"] = str(RATE_WINDOW_SECONDS - int(time.time()) % RATE_WINDOW_SECONDS)
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request):
    if request.method != "POST":
        return cached_public_response(
            request,
            "subscribe",
            lambda: _page(request, "statuspage/subscribe.html", {"form": SubscribeForm()}),
        )
    ip = client_address(request)
    if _over_limit("ip", ip, _limit("SUBSCRIBE_RATE_PER_IP", 5)):
        return _too_many(
            request, "Too many subscription requests from your network in the last hour. Try again later."
        )
    form = SubscribeForm(request.POST)
    if form.honeypot_filled():
        return _page(request, "statuspage/subscribe_done.html")  # a bot: look the same, save nothing
    address = ""
    if form.is_valid():
        try:
            address = subscriptions.subscriber_normalise_address(
                channel=form.cleaned_data["channel"], address=form.cleaned_data["address"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    if not form.is_valid():
        return _page(request, "statuspage/subscribe.html", {"form": form}, status=400)
    if _over_limit(
        "address", f"{form.cleaned_data['channel']}:{address}", _limit("SUBSCRIBE_RATE_PER_ADDRESS", 3)
    ):
        return _too_many(
            request,
            "We have already sent several confirmations to this address in the last hour. "
            "Check for them (and your spam folder), or try again later.",
        )
    try:
        subscriptions.subscriber_subscribe(
            channel=form.cleaned_data["channel"],
            address=address,
            components=form.cleaned_data["components"],
            ip=ip if ip != UNKNOWN else None,
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _page(request, "statuspage/subscribe.html", {"form": form}, status=400)
    # The same answer whether or not the address was already subscribed: we do not say who subscribes.
    return _page(request, "statuspage/subscribe_done.html", {"channel": form.cleaned_data["channel"]})


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token: str):
    # GET only shows a button: mail scanners that follow links must not confirm on someone's behalf.
    if request.method != "POST":
        return _page(request, "statuspage/subscription_confirm.html", {"token": token})
    try:
        subscriber = subscriptions.subscriber_confirm(token=token)
    except ValidationError as exc:
        return _page(
            request, "statuspage/subscription_problem.html", {"detail": refusal_text(exc)}, status=400
        )
    return _page(
        request,
        "statuspage/subscription_confirmed.html",
        {"subscriber": subscriber, "links": subscriptions.subscriber_links(subscriber)},
    )


def _subscriber_or_problem(request, token: str):
    try:
        return subscriptions.subscriber_from_manage_token(token), None
    except ValidationError as exc:
        return None, _page(
            request, "statuspage/subscription_problem.html", {"detail": refusal_text(exc)}, status=404
        )


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request, token: str):
    subscriber, problem = _subscriber_or_problem(request, token)
    if problem:
        return problem
    status = 200
    saved = False
    if request.method == "POST" and request.POST.get("action") == "resume":
        subscriber = subscriptions.subscriber_resume(subscriber=subscriber)
        form = ManageSubscriptionForm(initial={"components": list(subscriber.components.all())})
        saved = True
    elif request.method == "POST" and subscriber.unsubscribed_at is None:
        form = ManageSubscriptionForm(request.POST)
        if form.is_valid():
            try:
                subscriber = subscriptions.subscriber_update_components(
                    subscriber=subscriber, components=form.cleaned_data["components"]
                )
                saved = True
            except Conflict as exc:
                form.add_error(None, str(exc))
                status = 409
        else:
            status = 400
    else:
        form = ManageSubscriptionForm(initial={"components": list(subscriber.components.all())})
    return _page(
        request,
        "statuspage/subscription_manage.html",
        {"subscriber": subscriber, "form": form, "token": token, "saved": saved},
        status=status,
    )


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    """GET asks (link scanners follow GETs); POST unsubscribes, including RFC 8058's one-click POST whose
    body is "List-Unsubscribe=One-Click"."""
    subscriber, problem = _subscriber_or_problem(request, token)
    if problem:
        return problem
    if request.method != "POST":
        return _page(
            request, "statuspage/subscription_unsubscribe.html", {"subscriber": subscriber, "token": token}
        )
    subscriptions.subscriber_unsubscribe(subscriber=subscriber)
    return _page(request, "statuspage/subscription_unsubscribed.html")
