"""Django's Redis cache, keeping one client per connection pool instead of building one per operation.

Django's RedisCacheClient.get_client() constructs a new redis.Redis object on every call; with redis-py 8
that construction costs more than the round trip itself (~0.2 ms), and the public status page reads the
cache on every request. redis.Redis objects are thread-safe, so one per pool is enough.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class PooledRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class PooledRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = PooledRedisCacheClient
