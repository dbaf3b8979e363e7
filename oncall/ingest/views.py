"""The doors in: PagerDuty Events v2 (`/v2/enqueue`), Alertmanager and generic webhooks (`/hooks/…`), heartbeat
pings (`/ping/…`). The integration key is the only credential: no session, no CSRF token. Each door bounds
and checks the request (the parsers), stores every valid event through oncall.alerting before it answers,
and stores nothing for a request it refuses."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.http import HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from oncall import heartbeats
from oncall.alerting import alert_events_ingest
from oncall.intake import alert_event_enqueue
from oncall.models import Heartbeat, Integration, IntegrationKind
from oncall.payloads import alertmanager, checks, generic, pagerduty
from opsportal.core.rate_limits import over_limit, seconds_until_window_end

RATE_WINDOW_SECONDS = 60
_KEY_MAX = 64  # Integration.key's column; a longer key cannot exist, so it is not looked up


def _json(body: dict, *, status: int = 200) -> JsonResponse:
    # Compact, as PagerDuty's own answers are: clients that compare bodies see the same bytes.
    return JsonResponse(body, status=status, json_dumps_params={"separators": (",", ":")})


class Refused(Exception):
    """A request the door turns away: its status and the reasons, answered in the door's own shape."""

    def __init__(self, status: int, errors: list[str], *, retry_after: int | None = None):
        super().__init__(errors)
        self.status, self.errors, self.retry_after = status, errors, retry_after


def _json_body(request, max_bytes: int):
    """The request's JSON, read by us (not request.body) so the size answer is the door's own 413."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > max_bytes:
        raise Refused(413, [f"The request body is larger than {max_bytes} bytes"])
    if request.content_type != "application/json":
        raise Refused(
            415 if request.content_type else 400, ["Send the event as JSON (Content-Type: application/json)"]
        )
    raw = request.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise Refused(413, [f"The request body is larger than {max_bytes} bytes"])
    try:
        data = json.loads(raw.decode(request.encoding or "utf-8"), parse_constant=_not_a_number)
    except RecursionError:
        raise Refused(400, [f"The JSON is nested deeper than {checks.JSON_DEPTH_MAX} levels"]) from None
    except (ValueError, UnicodeDecodeError, LookupError):
        raise Refused(400, ["The body is not valid JSON"]) from None
    errors = checks.Errors()
    checks.json_value(errors, "body", data)
    if errors:
        raise Refused(400, list(errors))
    return data


def _not_a_number(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _integration(key: str, kind: str) -> Integration:
    """The enabled integration of `kind` with `key`, or Refused (404 unknown, 400 another kind, 403 disabled)."""
    integration = None
    if 0 < len(key) <= _KEY_MAX:
        integration = Integration.objects.filter(key=key).select_related("team").first()
    if integration is None:
        raise Refused(404, ["No integration has this key"])
    if integration.kind != kind:
        raise Refused(
            400, [f"This key belongs to a {integration.get_kind_display()} integration; use its own URL"]
        )
    if not integration.enabled:
        raise Refused(403, ["This integration is disabled"])
    return integration


def _throttle(key: str) -> None:
    """Per integration key (the credential; the counter stores only its hash), before anything is stored."""
    limit = settings.INGEST_RATE_PER_MINUTE
    if limit and over_limit(kind="ingest", key=key, limit=limit, window_seconds=RATE_WINDOW_SECONDS):
        wait = seconds_until_window_end(RATE_WINDOW_SECONDS)
        raise Refused(
            429, [f"More than {limit} requests a minute for this key; retry in {wait} s"], retry_after=wait
        )


def _stored_answer(stored) -> list[dict]:
    return [
        {
            "dedup_key": event.dedup_key,
            "action": event.action,
            "outcome": event.outcome,
            "group": event.group_id,
        }
        for event in stored
    ]


# --- PagerDuty Events API v2 ---------------------------------------------------------------------------------


def _pagerduty_refusal(refused: Refused) -> JsonResponse:
    if refused.status == 429:
        body = {"status": "throttle event", "message": "Request Limit Exceeded", "errors": refused.errors}
    else:
        body = pagerduty.invalid(refused.errors)
    response = _json(body, status=refused.status)
    if refused.retry_after is not None:
        response["Retry-After"] = str(refused.retry_after)
    return response


@csrf_exempt
def pagerduty_enqueue(request):
    """PagerDuty's `POST /v2/enqueue`: 202 with the dedup key, 400 "invalid event" with the reasons."""
    if request.method != "POST":
        response = _pagerduty_refusal(Refused(405, ["Send events with POST"]))
        response["Allow"] = "POST"
        return response
    try:
        body = _json_body(request, pagerduty.MAX_BODY_BYTES)
        if isinstance(body, dict) and "routing_key" not in body and request.headers.get("X-Routing-Key"):
            # pdpyras before 4.1.3 sent the key only in this header, and PagerDuty takes it there too.
            body["routing_key"] = request.headers["X-Routing-Key"]
        event, errors = pagerduty.parse(body)
        if errors:
            raise Refused(400, errors)
        key = body["routing_key"]
        _throttle(key)
        # One statement finds the integration and stores the event; the intake applies it (oncall.intake).
        if alert_event_enqueue(key=key, kind=IntegrationKind.PAGERDUTY, event=event) is None:
            # PagerDuty answers an unknown (or unusable) routing key with the same 400 as a malformed event.
            try:
                _integration(key, IntegrationKind.PAGERDUTY)
            except Refused as refused:
                if refused.status == 404:
                    raise Refused(400, [pagerduty.INVALID_ROUTING_KEY]) from None
                raise Refused(400, refused.errors) from None
            raise Refused(400, [pagerduty.INVALID_ROUTING_KEY])  # disabled or removed meanwhile
    except Refused as refused:
        if refused.status == 415:
            refused.status = 400
        return _pagerduty_refusal(refused)
    return _json(pagerduty.accepted(event.dedup_key), status=202)


# --- webhooks ------------------------------------------------------------------------------------------------


def _hook_refusal(refused: Refused) -> JsonResponse:
    response = _json({"status": "error", "errors": refused.errors}, status=refused.status)
    if refused.retry_after is not None:
        response["Retry-After"] = str(refused.retry_after)
    return response


@csrf_exempt
def alertmanager_hook(request, key: str):
    """Alertmanager's webhook_configs receiver: every alert of the notification becomes one event."""
    if request.method != "POST":
        response = _hook_refusal(Refused(405, ["Send notifications with POST"]))
        response["Allow"] = "POST"
        return response
    try:
        integration = _integration(key, IntegrationKind.ALERTMANAGER)
        _throttle(key)
        body = _json_body(request, alertmanager.MAX_BODY_BYTES)
        notification, errors = alertmanager.parse(body)
        if errors:
            raise Refused(400, errors)
    except Refused as refused:
        return _hook_refusal(refused)
    stored = alert_events_ingest(integration=integration, events=notification.events)
    answer = {"status": "success", "stored": len(stored), "events": _stored_answer(stored)}
    if notification.truncated_alerts:
        answer["truncatedAlerts"] = notification.truncated_alerts
        answer["message"] = (
            f"{notification.truncated_alerts} alerts were truncated by Alertmanager (raise its max_alerts)"
        )
    return _json(answer)


def _generic_fields(request) -> dict:
    """The query-string (and form) form: for curl in a shell script or a crontab line."""
    try:
        fields = request.GET.dict()
    except TooManyFieldsSent:
        raise Refused(400, ["The query string has too many fields"]) from None
    if request.method != "POST":
        return fields
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > generic.MAX_BODY_BYTES:
        raise Refused(413, [f"The request body is larger than {generic.MAX_BODY_BYTES} bytes"])
    if request.content_type == "multipart/form-data":  # curl -F; the size is checked above
        try:
            fields.update(request.POST.dict())
        except (MultiPartParserError, TooManyFieldsSent, RequestDataTooBig, UnicodeDecodeError):
            raise Refused(400, ["The form body could not be read"]) from None
        return fields
    raw = request.read(generic.MAX_BODY_BYTES + 1)
    if len(raw) > generic.MAX_BODY_BYTES:
        raise Refused(413, [f"The request body is larger than {generic.MAX_BODY_BYTES} bytes"])
    if raw:
        if request.content_type not in ("application/x-www-form-urlencoded", ""):
            raise Refused(415, ["Send JSON (Content-Type: application/json) or form fields"])
        try:
            fields.update(QueryDict(raw, encoding=request.encoding or "utf-8").dict())
        except (TooManyFieldsSent, UnicodeDecodeError, ValueError):
            raise Refused(400, ["The form body could not be read"]) from None
    return fields


@csrf_exempt
def generic_hook(request, key: str):
    """POST a JSON body, or GET/POST the same fields as a query string (`?summary=…&action=close`)."""
    if request.method not in ("GET", "POST"):
        response = _hook_refusal(Refused(405, ["Use GET or POST"]))
        response["Allow"] = "GET, POST"
        return response
    try:
        integration = _integration(key, IntegrationKind.GENERIC)
        _throttle(key)
        if request.method == "POST" and request.content_type == "application/json":
            if request.META.get("QUERY_STRING"):
                raise Refused(400, ["Send the fields either as JSON or in the query string, not both"])
            event, errors = generic.parse(_json_body(request, generic.MAX_BODY_BYTES))
        else:
            event, errors = generic.parse(_generic_fields(request), from_query=True)
        if errors:
            raise Refused(400, errors)
    except Refused as refused:
        return _hook_refusal(refused)
    stored = alert_events_ingest(integration=integration, events=[event])
    return _json({"status": "success", "dedup_key": event.dedup_key, "events": _stored_answer(stored)})


# --- heartbeats ----------------------------------------------------------------------------------------------


def _text(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
def heartbeat_ping(request, key: str, kind: str = heartbeats.SUCCESS, exit_status: str | None = None):
    """healthchecks' ping URLs: /ping/<key>, /start, /fail, /<exit status>; GET, HEAD or POST; "OK"."""
    if request.method not in ("GET", "HEAD", "POST"):
        response = _text(405, "method not allowed")
        response["Allow"] = "GET, HEAD, POST"
        return response
    heartbeat = None
    if 0 < len(key) <= _KEY_MAX:
        heartbeat = (
            Heartbeat.objects.filter(integration__key=key, integration__kind=IntegrationKind.HEARTBEAT)
            .select_related("integration")
            .first()
        )
    if heartbeat is None:
        return _text(404, "not found")
    if not heartbeat.integration.enabled:
        return _text(403, "disabled")
    try:
        _throttle(key)
    except Refused as refused:
        response = _text(429, "rate limited")
        response["Retry-After"] = str(refused.retry_after)
        return response
    status = None if exit_status is None else int(exit_status)
    if status is not None and status > 255:
        return _text(400, "exit status must be 0 to 255")
    try:
        heartbeats.heartbeat_ping(heartbeat=heartbeat, kind=kind, exit_status=status)
    except ValidationError:
        return _text(400, "bad ping")
    return _text(200, "OK")
