"""What a page says: the SMS (one segment where it can be), the email with details and links, the in-app
push, and the rate-limit summary. The one-time link is a slot filled at send time, never stored."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from opsportal.notifications.slots import recipient_slot
from opsportal.notifications.transports.sms import GSM7_BASIC, GSM7_EXTENDED

# One SMS segment: 160 GSM-7 septets, or 70 UCS-2 units (too few for a link: two segments, 134, then).
ONE_SEGMENT_GSM7 = 160
TWO_SEGMENTS_UCS2 = 134
# An ack link: PUBLIC_URL + "/a/" + a 16-character token (oncall.paging.LINK_TOKEN_BYTES).
LINK_TOKEN_CHARS = 16
DETAILS_MAX_CHARS = 4000
SUMMARY_LIST_MAX = 50


def _is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text)


def _cost(text: str, gsm7: bool) -> int:
    if gsm7:
        return sum(2 if char in GSM7_EXTENDED else 1 for char in text)
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, budget: int, gsm7: bool) -> str:
    """`text` cut to `budget` (in the encoding's units), with an ellipsis where it was cut."""
    if _cost(text, gsm7) <= budget:
        return text
    ellipsis = "..." if gsm7 else "…"
    kept, spent, room = [], 0, budget - _cost(ellipsis, gsm7)
    for char in text:
        spent += _cost(char, gsm7)
        if spent > room:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ellipsis


def ack_link_length() -> int:
    return len(settings.PUBLIC_URL.rstrip("/")) + len("/a/") + LINK_TOKEN_CHARS


def fit_sms(head: str, middle: str, tail: str, *, link_chars: int) -> str:
    """head + middle + tail, plus " " + a link of `link_chars` the transport appends, cutting only the
    middle (the alert's summary), so the code and the reply instruction always survive. One GSM-7 segment;
    a text that needs UCS-2 gets two segments, as one could not hold the link."""
    middle = " ".join(middle.split())
    gsm7 = _is_gsm7(head + middle + tail)
    limit = ONE_SEGMENT_GSM7 if gsm7 else TWO_SEGMENTS_UCS2
    link_cost = (1 + link_chars) if link_chars else 0
    budget = limit - link_cost - _cost(head + tail, gsm7)
    return head + _cut(middle, max(budget, 8), gsm7) + tail


@dataclass(frozen=True)
class Text:
    subject: str
    text: str
    html: str
    sms: str


def portal_alert_url(group_id: int) -> str:
    """The alert group's page in the portal (a URL name, not an import: the portal is a door above us)."""
    return _alert_url_pattern(settings.PUBLIC_URL.rstrip("/")).replace(_ID_SLOT, str(int(group_id)))


_ID_SLOT = "987654321"


@functools.lru_cache(maxsize=4)
def _alert_url_pattern(base: str) -> str:
    # reverse() once, not for every page of a storm (it showed in the tick's profile).
    return base + reverse("portal:alert_group", args=[int(_ID_SLOT)])


def _sev(group) -> str:
    return group.incident_severity or group.severity


def page_text(group, *, with_link: bool = True) -> Text:
    """A page about one alert group. The email's link is the recipient's one-time acknowledge link."""
    code = group.pk
    head = f"[#{code}] {_sev(group)} "
    tail = f" - reply {code}a to ack"
    sms = fit_sms(head, group.summary, tail, link_chars=ack_link_length() if with_link else 0)
    subject = f"[#{code}] {_sev(group)} {' '.join(group.summary.split())}"[:300]
    ack = recipient_slot("ack_url")
    portal = portal_alert_url(code)
    lines = [
        subject,
        "",
        f"Severity: {_sev(group)} (source said {group.severity}), {group.urgency} urgency",
        f"Team: {group.team}",
        f"Source: {group.source or '-'}",
        f"First seen: {group.first_seen_at:%Y-%m-%d %H:%M} UTC, {group.occurrences} occurrence(s)",
    ]
    for key, value in sorted((group.labels or {}).items())[:30]:
        lines.append(f"  {key}={value}")
    details = _details(group)
    if details:
        lines += ["", "Details:", details]
    links = _links(group)
    if links:
        lines += ["", "Links:"] + [f"  {text}: {href}" for href, text in links]
    lines += [
        "",
        f"Acknowledge or resolve (one tap, works once): {ack}" if with_link else "",
        f"Reply to the SMS with {code}a to acknowledge, {code}c to close, {code}e to escalate.",
        f"In the portal: {portal}",
    ]
    text = "\n".join(line for line in lines if line is not None) + "\n"
    html_links = "".join(f'<li><a href="{escape(href)}">{escape(text)}</a></li>' for href, text in links)
    html_labels = "".join(
        f"<li><code>{escape(k)}={escape(str(v))}</code></li>"
        for k, v in sorted((group.labels or {}).items())[:30]
    )
    html = (
        "<!doctype html><html><body>"
        f'<h1 style="font-size:18px;">{escape(subject)}</h1>'
        + (
            f'<p><a href="{ack}" style="display:inline-block;padding:12px 20px;background:#b42318;'
            f'color:#fff;text-decoration:none;border-radius:6px;">Acknowledge #{code}</a></p>'
            if with_link
            else ""
        )
        + f"<p>Severity <strong>{escape(_sev(group))}</strong> (source said {escape(group.severity)}), "
        f"{escape(group.urgency)} urgency. Team {escape(str(group.team))}. "
        f"Source {escape(group.source or '-')}.<br>First seen {group.first_seen_at:%Y-%m-%d %H:%M} UTC, "
        f"{group.occurrences} occurrence(s).</p>"
        + (f"<ul>{html_labels}</ul>" if html_labels else "")
        + (f"<pre>{escape(details)}</pre>" if details else "")
        + (f"<ul>{html_links}</ul>" if html_links else "")
        + f"<p>Reply to the SMS with <code>{code}a</code> to acknowledge, <code>{code}c</code> to close, "
        f'<code>{code}e</code> to escalate. <a href="{escape(portal)}">Open #{code} in the portal</a>.</p>'
        "</body></html>"
    )
    return Text(subject=subject, text=text, html=html, sms=sms)


def _details(group) -> str:
    details = group.details or {}
    if not details:
        return ""
    try:
        dumped = json.dumps(details, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return ""
    return dumped if len(dumped) <= DETAILS_MAX_CHARS else dumped[:DETAILS_MAX_CHARS] + "\n…"


def _links(group) -> list[tuple[str, str]]:
    """Only http(s) links from the source: a javascript: link must never reach an email."""
    found = []
    for link in (group.links or [])[:10]:
        if not isinstance(link, dict):
            continue
        href = str(link.get("href") or "")
        if href.startswith(("https://", "http://")) and len(href) <= 2000:
            found.append((href, str(link.get("text") or href)[:200]))
    return found


def summary_text(groups: list) -> Text:
    """ONE message for every page a rate limit held on one contact method: "5 more alerts: #12 …"."""
    count = len(groups)
    shown = groups[:SUMMARY_LIST_MAX]
    noun = "alert" if count == 1 else "alerts"
    items = "; ".join(f"#{g.pk} {_sev(g)} {' '.join(g.summary.split())[:40]}" for g in shown)
    example = shown[0].pk
    sms = fit_sms(
        f"{count} more {noun}: ", items, f" - reply <id>a to ack each, e.g. {example}a", link_chars=0
    )
    subject = f"{count} more {noun}: " + ", ".join(f"#{g.pk}" for g in shown[:10])
    lines = [f"{count} more {noun} while your messages were rate-limited:", ""]
    lines += [f"#{g.pk} {_sev(g)} {' '.join(g.summary.split())}  {portal_alert_url(g.pk)}" for g in shown]
    if count > len(shown):
        lines.append(f"… and {count - len(shown)} more.")
    lines += ["", "Reply to an SMS page with <id>a to acknowledge, <id>c to close, <id>e to escalate."]
    html_items = "".join(
        f'<li><a href="{escape(portal_alert_url(g.pk))}">#{g.pk}</a> {escape(_sev(g))} '
        f"{escape(' '.join(g.summary.split()))}</li>"
        for g in shown
    )
    html = (
        f"<!doctype html><html><body><p>{count} more {noun} while your messages were rate-limited:</p>"
        f"<ul>{html_items}</ul></body></html>"
    )
    return Text(subject=subject[:300], text="\n".join(lines) + "\n", html=html, sms=sms)
