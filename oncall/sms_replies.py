"""SMS reply codes in GoAlert's scheme: "<alert id>a" acknowledges, "<id>c" closes, "<id>e" escalates; and
the Twilio request signature. Pure: no ORM, no framework."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

ACKNOWLEDGE, CLOSE, ESCALATE = "acknowledge", "close", "escalate"
ACTIONS = {"a": ACKNOWLEDGE, "c": CLOSE, "e": ESCALATE}
_REPLY = re.compile(r"^\s*#?\s*(\d{1,18})\s*([ace])\s*[.!]?\s*$", re.IGNORECASE)
HELP = "Reply <id>a to acknowledge, <id>c to close, <id>e to escalate (e.g. 12a)."


@dataclass(frozen=True)
class Reply:
    group_id: int
    action: str


def reply_parse(body: str) -> Reply | None:
    """'12a', ' 12 A ', '#12c' -> Reply; anything else -> None."""
    match = _REPLY.match((body or "")[:100])
    if match is None:
        return None
    return Reply(int(match[1]), ACTIONS[match[2].lower()])


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's X-Twilio-Signature: base64 of HMAC-SHA1, keyed by the auth token, over the full URL followed
    by every POST parameter sorted by name, each name and value concatenated with no separator."""
    pairs = sorted(params, key=lambda pair: (pair[0], pair[1]))
    data = url + "".join(f"{name}{value}" for name, value in pairs)
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(auth_token: str, url: str, params: Iterable[tuple[str, str]], given: str) -> bool:
    if not auth_token or not given:
        return False
    return hmac.compare_digest(twilio_signature(auth_token, url, params).encode(), given.strip().encode())
