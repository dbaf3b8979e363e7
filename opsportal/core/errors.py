"""Site-wide error handlers: problem+json under /api/, a plain HTML page everywhere else."""

from __future__ import annotations

from django.shortcuts import render

from opsportal.core.problems import problem_response

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do this.",
    404: "There is nothing at this address.",
    500: "Something went wrong on our side. The error has been logged.",
}


def _wants_problem(request) -> bool:
    return request.path.startswith("/api/")


def _handle(request, status_code: int, exception=None):
    detail = MESSAGES[status_code]
    if status_code == 403 and exception is not None and str(exception):
        detail = str(exception)
    if _wants_problem(request):
        return problem_response(request, status_code, detail)
    return render(request, "error.html", {"status_code": status_code, "detail": detail}, status=status_code)


def bad_request(request, exception=None):
    return _handle(request, 400)


def permission_denied(request, exception=None):
    return _handle(request, 403, exception)


def page_not_found(request, exception=None):
    return _handle(request, 404)


def server_error(request):
    # Never a stack trace: that lives in the log, tied to the request id.
    return _handle(request, 500)
