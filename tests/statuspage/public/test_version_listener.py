"""Production processes learn a new public version from Redis pub/sub, with no round trip per request."""

import time

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from statuspage.public import publishing

pytestmark = pytest.mark.tier2


def test_a_version_bumped_by_another_process_is_seen_within_moments():
    first = publishing.public_version()
    deadline = time.monotonic() + 5
    while publishing._get_listener().fresh() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # the listener subscribes and reads the current version
    assert publishing._get_listener().fresh() == first

    # Another process: bump in the shared cache and announce it.
    newer = cache.incr(publishing.PUBLIC_VERSION_KEY)
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        client.publish(publishing.VERSION_CHANNEL, newer)
    deadline = time.monotonic() + 2
    while publishing.public_version() != newer and time.monotonic() < deadline:
        time.sleep(0.005)
    assert publishing.public_version() == newer
