"""With PostgreSQL unreachable, the public page keeps answering 200 with the last good state (tier 2)."""

from __future__ import annotations

import http.client
import os
import sys
import time

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from statuspage.models import Component
from statuspage.public.publishing import PUBLIC_VERSION_KEY, VERSION_CHANNEL, public_version
from tests.e2e.conftest import _answers_healthz, _free_port, _running, _start, _wait_until
from tests.e2e.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.tier2, pytest.mark.django_db(transaction=True)]

PUBLIC_PATHS = [
    "/",
    "/history/",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/history.rss",
    "/maintenance.ics",
]


def _get(port: int, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


@pytest.fixture
def server_behind_proxy(tmp_path):
    from django.db import connection

    db = connection.settings_dict
    proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DEBUG="1",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
        OPSPORTAL_MODE="production",
        REDIS_URL=settings.REDIS_URL,
        DATABASE_URL=f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}",
    )
    process = _start(
        "run_embedded (db via proxy)",
        [sys.executable, "manage.py", "run_embedded", "--port", str(port)],
        env,
        tmp_path,
    )
    try:
        _wait_until(lambda: _answers_healthz(port), what="the server behind the proxy", processes=[process])
        yield port, proxy
    finally:
        process.stop()
        _running.remove(process)
        proxy.cut()


def test_public_pages_keep_serving_the_last_good_state_when_the_database_goes(server_behind_proxy):
    port, proxy = server_behind_proxy
    Component.objects.create(name="Checkout", status="operational")
    cache.incr(PUBLIC_VERSION_KEY) if cache.get(PUBLIC_VERSION_KEY) else public_version()
    good = {path: _get(port, path) for path in PUBLIC_PATHS}
    for path, response in good.items():
        assert response.status == 200, path
        assert response.getheader("X-Statuspage-Stale") is None
    assert b"Checkout" in good["/"].body

    proxy.cut()
    # Cached state needs no database at all.
    assert _get(port, "/").status == 200
    # A newer state was announced (as another process would: bump, then publish), but it cannot be
    # rendered: the last good one is served, marked stale.
    version = cache.incr(PUBLIC_VERSION_KEY)
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        client.publish(VERSION_CHANNEL, version)
    deadline = time.monotonic() + 5
    while _get(port, "/").getheader("X-Statuspage-Stale") is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the server hears the new version within milliseconds; poll, bounded
    for path in PUBLIC_PATHS:
        response = _get(port, path)
        assert response.status == 200, path
        assert "database unreachable" in response.getheader("X-Statuspage-Stale", "")
        assert response.body == good[path].body
    # Each says how old it is: the page in words, everything in Last-Modified; JSON in page.updated_at.
    assert b"Last updated" in _get(port, "/").body
    assert _get(port, "/api/v2/status.json").getheader("Last-Modified")
    assert _answers_healthz(port)  # the process is alive; /readyz would say the database is not
    assert _get(port, "/readyz").status == 503
