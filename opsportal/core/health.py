"""/healthz (the process answers) and /readyz (its dependencies answer), as JSON for load balancers.
Anyone may ask; only staff see how each check went (exception text names hosts, users and versions)."""

from __future__ import annotations

import logging
import time

import celery
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from opsportal.core.background import in_process_worker

logger = logging.getLogger("opsportal.health")


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return f"ok ({connection.vendor})"


def _check_channel_layer() -> str:
    layer = get_channel_layer()

    async def round_trip():
        # new_channel makes the name unique; a long prefix would push Redis names past Channels' limit.
        name = await layer.new_channel(prefix="readyz")
        await layer.send(name, {"type": "readyz.ping"})
        return await layer.receive(name)

    message = async_to_sync(round_trip)()
    if message.get("type") != "readyz.ping":
        raise RuntimeError("message did not come back")
    return f"ok ({type(layer).__name__})"


def _check_broker() -> str:
    if settings.RUNNING_MODE != "production":
        worker = in_process_worker()
        if worker is None:
            return "ok (in-process, runs inline)"
        if not worker.is_alive():
            raise RuntimeError("embedded worker threads have stopped")
        return "ok (in-process worker)"
    # The project's Celery app, made current when the opsportal package loads; core does not import the wiring.
    with celery.current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok (celery broker)"


CHECKS = {"database": _check_database, "channel_layer": _check_channel_layer, "broker": _check_broker}


def _is_staff(request) -> bool:
    from opsportal.core.roles import role_of

    try:
        return request.user.is_authenticated and role_of(request.user) is not None
    except Exception:  # the session store may be the database that is down: then nobody gets details
        return False


@never_cache
@require_GET
def readyz(request):
    results = {}
    ready = True
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail = check()
            results[name] = {"status": "ok", "detail": detail}
        except Exception as exc:
            ready = False
            logger.warning("readyz: %s check failed", name, exc_info=True)
            results[name] = {"status": "error", "detail": f"{type(exc).__name__}: {exc}"[:300]}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    if not _is_staff(request):
        results = {name: result["status"] for name, result in results.items()}
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503
    )
