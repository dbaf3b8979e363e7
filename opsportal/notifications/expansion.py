"""Expanding a message's audience into outbox rows after the change committed: chunk by chunk, each chunk in
one transaction with the cursor that follows it, so a process that dies mid-way loses nothing and repeats
nothing (the next claimant resumes at the cursor; the rows' unique keys absorb any overlap)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from opsportal.notifications.models import Message
from opsportal.notifications.services import Recipient, outbox_rows_write
from opsportal.notifications.workers import claim_token

logger = logging.getLogger(__name__)

CHUNK = 2000
# An expansion claim is renewed with every chunk (a chunk takes well under a second); one not renewed for
# this long belongs to a process that died, and the sweep resumes it from its cursor.
EXPANSION_LEASE = timedelta(seconds=30)

Expansion = Message.Expansion


@dataclass(frozen=True)
class AudiencePage:
    """One chunk of an audience: its recipients in a stable order, the cursor after the last one, and whether
    the audience is exhausted."""

    recipients: list[Recipient]
    cursor: str
    exhausted: bool


# expander(*, params, after, limit, as_of) -> AudiencePage. `after` is "" for the first chunk; `as_of` is when
# the message was written (an audience is who was subscribed then, not who joins while it is expanded).
Expander = Callable[..., AudiencePage]


def _expander(audience: str) -> Expander:
    return import_string(settings.NOTIFICATION_AUDIENCES[audience])


def _claim(message_id: int, token: str, now: datetime) -> bool:
    """Take the expansion if nobody holds it, or its holder stopped renewing. One caller wins."""
    claimable = Q(expansion_claimed_by="") | Q(expansion_claimed_at__lt=now - EXPANSION_LEASE)
    return bool(
        Message.objects.filter(claimable, pk=message_id, expansion=Expansion.PENDING).update(
            expansion_claimed_by=token, expansion_claimed_at=now
        )
    )


def message_expand(*, message_id: int, max_chunks: int | None = None, on_chunk=None) -> int:
    """Write the message's outbox rows, chunk by chunk, from its cursor. Returns how many rows this call wrote.

    Safe to run twice and side by side: one caller holds the expansion; the others return 0 at once.
    `on_chunk` is called after each committed chunk (the task starts delivery there, so sending begins
    while the rest of the audience is still being expanded)."""
    token = claim_token()
    if not _claim(message_id, token, timezone.now()):
        return 0
    written = chunks = 0
    while max_chunks is None or chunks < max_chunks:
        with transaction.atomic():
            message = Message.objects.select_for_update().filter(pk=message_id).first()
            # Cancelled by an admin, or taken over after our lease ran out: stop where we are.
            if (
                message is None
                or message.expansion != Expansion.PENDING
                or message.expansion_claimed_by != token
            ):
                return written
            page = _expander(message.audience)(
                params=message.audience_params,
                after=message.expansion_cursor,
                limit=CHUNK,
                as_of=message.created_at,
            )
            count = outbox_rows_write(message, page.recipients)
            done = page.exhausted
            Message.objects.filter(pk=message_id).update(
                expansion_cursor=page.cursor or message.expansion_cursor,
                expanded=F("expanded") + count,
                expansion=Expansion.DONE if done else Expansion.PENDING,
                expansion_claimed_by="" if done else token,
                expansion_claimed_at=None if done else timezone.now(),
            )
        written += count
        chunks += 1
        if on_chunk is not None and count:
            on_chunk()
        if done:
            return written
    # Out of chunks for this call: hand the expansion back so the next call (or the sweep) resumes it.
    Message.objects.filter(pk=message_id, expansion_claimed_by=token).update(
        expansion_claimed_by="", expansion_claimed_at=None
    )
    return written


def messages_awaiting_expansion() -> list[int]:
    """Messages whose expansion nobody holds: its start was lost, or its process died mid-way."""
    now = timezone.now()
    return list(
        Message.objects.filter(expansion=Expansion.PENDING)
        .filter(Q(expansion_claimed_by="") | Q(expansion_claimed_at__lt=now - EXPANSION_LEASE))
        .order_by("created_at")
        .values_list("pk", flat=True)[:100]
    )
