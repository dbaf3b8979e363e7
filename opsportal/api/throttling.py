"""Per-token request rate: each token gets its own bucket, 429 with Retry-After beyond it."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from opsportal.core.identity_selectors import Principal


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def __init__(self):
        # The rate depends on the token, so it is chosen in allow_request, not here.
        self.rate = None
        self.num_requests = self.duration = None

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, Principal):
            return None
        return f"throttle:token:{request.auth.token.pk}"

    def allow_request(self, request, view):
        if not isinstance(request.auth, Principal):
            return True
        token = request.auth.token
        per_minute = token.rate_limit_per_minute or settings.API_TOKEN_RATE_PER_MINUTE
        self.rate = f"{per_minute}/m"
        self.num_requests, self.duration = per_minute, 60
        return super().allow_request(request, view)
