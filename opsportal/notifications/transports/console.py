"""Development transport: prints what would have been sent, for embedded mode without an SMS provider."""

from __future__ import annotations

import logging
import sys
import threading

logger = logging.getLogger("opsportal.notifications.console")
_lock = threading.Lock()


def console_write(*, channel: str, address: str, text: str) -> None:
    line = f"[{channel} to {address}] {text}"
    logger.info(line)
    with _lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
