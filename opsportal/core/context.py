"""Per-request context that services read without views passing it along: the request id."""

from __future__ import annotations

import contextvars

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("current_request_id", default="")
