"""Who holds a claim: each claim names its worker ("<node>/<pid>/<claim>"), so a worker that restarts after a
crash hands back what its previous life held at once, instead of leaving it for the lease to run out."""

from __future__ import annotations

import logging
import os
import socket
import uuid

from django.db.models import Q
from django.utils import timezone

from opsportal.notifications.models import Delivery, Message

logger = logging.getLogger(__name__)

# The node: a Celery worker's node name (unique in a cluster), "embedded@<host>" in embedded mode, the host
# name for anything else (a management command delivering inline). Forked pool children inherit it.
_node = socket.gethostname()


def worker_node_set(node: str) -> None:
    global _node
    _node = node


def worker_node() -> str:
    return _node


def claim_token() -> str:
    """A fresh claim id for one batch, naming this worker."""
    return f"{_node}/{os.getpid()}/{uuid.uuid4().hex[:12]}"


def claims_release_own(*, node: str | None = None) -> int:
    """At start-up, before taking work: hand back every delivery and expansion the previous life of this node
    held (it died or was killed; nothing of it is running any more). Returns how many rows were released.

    Released deliveries are due at once. One that was sent but whose outcome was not yet recorded goes out
    again, with the same idempotency key and Message-ID, so the receiver can tell it is a repeat."""
    prefix = f"{node or _node}/"
    now = timezone.now()
    released = Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_by__startswith=prefix).update(
        status=Delivery.Status.PENDING, claimed_at=None, claimed_by="", next_attempt_at=now
    )
    expansions = Message.objects.filter(
        Q(expansion=Message.Expansion.PENDING), expansion_claimed_by__startswith=prefix
    ).update(expansion_claimed_by="", expansion_claimed_at=None)
    if released or expansions:
        logger.warning(
            "Released %s deliveries and %s expansions held by an earlier run of %s",
            released,
            expansions,
            node,
        )
    return released + expansions


def worker_started(*, node: str) -> None:
    """Called by the Celery worker and the embedded worker as they start."""
    worker_node_set(node)
    claims_release_own(node=node)
