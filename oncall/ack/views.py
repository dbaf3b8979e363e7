"""The one-time link in a page: GET shows the alert and two buttons and never acts (mail scanners follow
links); POST acts once, as the person the link was sent to, with their role as it is now."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from oncall import acknowledge
from oncall.models import AckLink
from oncall.page_messages import portal_alert_url
from opsportal.core.exceptions import Conflict

NO_STORE = "no-store"


def _answer(request, context: dict, status: int = 200):
    response = render(request, "oncall/ack_link.html", context, status=status)
    response["Cache-Control"] = NO_STORE  # a one-time page is nobody's to cache
    # The site's Referrer-Policy (same-origin) keeps the token from other sites; "no-referrer" would make the
    # browser send "Origin: null" with the form, which CSRF protection rightly refuses.
    response["X-Robots-Tag"] = "noindex"
    return response


def _gone(request, exc: acknowledge.LinkGone):
    return _answer(
        request,
        {
            "state": exc.reason,
            "link": exc.link,
            "group": exc.link.group,
            "portal_url": portal_alert_url(exc.link.group_id),
        },
        status=410,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def ack_link(request, token: str):
    link = acknowledge.ack_link_find(token)
    if link is None:
        return _answer(request, {"state": "unknown"}, status=404)
    group = link.group
    base = {"link": link, "group": group, "portal_url": portal_alert_url(group.pk)}
    if request.method != "POST":
        state = acknowledge.ack_link_state(link)
        if state != "usable":
            return _answer(request, {**base, "state": state}, status=410)
        return _answer(request, {**base, "state": "usable"})
    action = request.POST.get("action", "")
    if action not in acknowledge.LINK_ACTIONS:
        return _answer(request, {**base, "state": "usable", "error": "Choose Acknowledge or Resolve."}, 400)
    try:
        link, group = acknowledge.ack_link_use(token=token, action=action)
    except AckLink.DoesNotExist:
        return _answer(request, {"state": "unknown"}, status=404)
    except acknowledge.LinkGone as exc:
        return _gone(request, exc)
    except PermissionDenied as exc:
        return _answer(request, {**base, "state": "refused", "error": str(exc)}, status=403)
    except Conflict as exc:
        group.refresh_from_db()
        return _answer(request, {**base, "state": "conflict", "error": str(exc)}, status=409)
    return _answer(request, {**base, "group": group, "state": "done", "done": action, "at": timezone.now()})
