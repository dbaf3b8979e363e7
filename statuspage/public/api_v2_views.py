"""/api/v2/*.json: the Statuspage-compatible public JSON. No login, open to any origin, served from the cache."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from opsportal.core.problems import problem_response
from statuspage.public import v2
from statuspage.public.cache import cached_public_response

SAFE_METHODS = ("GET", "HEAD")


def add_cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "ETag, Last-Modified"
    return response


def preflight() -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since"
    response["Access-Control-Max-Age"] = "86400"
    response["Allow"] = "GET, HEAD, OPTIONS"
    return add_cors(response)


def public_cors_view(name: str, render: Callable[[HttpRequest], HttpResponse]):
    """A read-only public view: GET/HEAD from the cache with CORS, OPTIONS preflight, 405 otherwise."""

    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        if request.method == "OPTIONS":
            return preflight()
        if request.method not in SAFE_METHODS:
            response = problem_response(request, 405, f"{request.method} is not allowed here; use GET.")
            response["Allow"] = "GET, HEAD, OPTIONS"
            return add_cors(response)
        return add_cors(cached_public_response(request, name, lambda: render(request)))

    view.__name__ = view.__qualname__ = name.replace("/", "_").replace(".", "_").replace("-", "_")
    return view


def _json(build: Callable[[], dict]) -> Callable[[HttpRequest], HttpResponse]:
    return lambda request: JsonResponse(build(), json_dumps_params={"ensure_ascii": False})


summary = public_cors_view("api/v2/summary.json", _json(v2.summary))
status = public_cors_view("api/v2/status.json", _json(v2.status))
components = public_cors_view("api/v2/components.json", _json(v2.components))
incidents = public_cors_view("api/v2/incidents.json", _json(v2.incidents))
incidents_unresolved = public_cors_view("api/v2/incidents/unresolved.json", _json(v2.incidents_unresolved))
scheduled_maintenances = public_cors_view(
    "api/v2/scheduled-maintenances.json", _json(v2.scheduled_maintenances)
)
scheduled_maintenances_upcoming = public_cors_view(
    "api/v2/scheduled-maintenances/upcoming.json", _json(v2.scheduled_maintenances_upcoming)
)
scheduled_maintenances_active = public_cors_view(
    "api/v2/scheduled-maintenances/active.json", _json(v2.scheduled_maintenances_active)
)


@csrf_exempt
def not_found(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    return add_cors(problem_response(request, 404, "There is no public status endpoint at this path."))
