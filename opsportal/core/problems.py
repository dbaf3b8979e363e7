"""RFC 9457 problem details for every API error: DRF exceptions, Django 404/500, malformed JSON."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from opsportal.core.exceptions import Conflict
from opsportal.core.parsers import BodyTooLarge

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Problem types are URNs: stable identifiers clients can switch on, with no host we would have to run.
PROBLEM_BASE = "urn:opsportal:problem:"

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
SLUGS = {
    400: "bad-request",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    429: "too-many-requests",
    500: "internal-error",
    503: "unavailable",
}


def problem(status_code: int, detail: str, *, instance: str = "", slug: str = "", **extra) -> dict:
    body = {
        "type": PROBLEM_BASE + (slug or SLUGS.get(status_code, "error")),
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(request, status_code: int, detail: str, **extra) -> JsonResponse:
    """For plain Django views and handlers outside DRF."""
    return JsonResponse(
        problem(status_code, detail, instance=request.path, **extra),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _flatten(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    return str(detail)


def problem_exception_handler(exc, context):
    request = context.get("request")
    instance = request.path if request is not None else ""
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Nothing here with that identifier.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Conflict):
        return Response(
            problem(409, str(exc), instance=instance, slug="conflict"),
            status=409,
            content_type=PROBLEM_CONTENT_TYPE,
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unhandled: Django's handler500 answers with a problem, without a stack trace

    if isinstance(exc, exceptions.ValidationError):
        code = status.HTTP_400_BAD_REQUEST
        body = problem(
            code,
            "The request has invalid fields; see errors.",
            instance=instance,
            slug="validation-failed",
            errors=exc.detail,
        )
    elif isinstance(exc, exceptions.ParseError):
        code = status.HTTP_400_BAD_REQUEST
        body = problem(
            code,
            f"The request body could not be parsed: {_flatten(exc.detail)}",
            instance=instance,
            slug="malformed-body",
        )
    else:
        code = response.status_code
        body = problem(code, _flatten(exc.detail) if hasattr(exc, "detail") else str(exc), instance=instance)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            body["retry_after"] = int(exc.wait + 0.999)

    headers = {k: v for k, v in response.items() if k in ("Retry-After", "WWW-Authenticate", "Allow")}
    return Response(body, status=code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
