"""Shape and bounds checks every ingestion parser shares (pure: no Django). A parser collects error strings
and produces events only when there are none, so a bad request stores nothing."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

# PagerDuty's limits (a tool that pages PagerDuty pages us unchanged), and ours for what PagerDuty leaves open.
DEDUP_KEY_MAX = 255
SUMMARY_MAX = 1024
FIELD_MAX = 255  # source, component, group, class, client
URL_MAX = 2048
LABELS_MAX = 64  # labels kept for routing per event; the rest stay in details only
LABEL_NAME_MAX = 100
LABEL_VALUE_MAX = 500
LINKS_MAX = 20
JSON_DEPTH_MAX = 32  # as the partner API's parser (opsportal.core.parsers.MAX_JSON_DEPTH)

# As opsportal.core.text (which imports Django): one line refuses every control character; free text (details,
# annotations) keeps tab and line feed. NUL and lone surrogates would also break PostgreSQL's jsonb.
_FORBIDDEN_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_WHITESPACE_RUN = re.compile(r"[\t\r\n ]+")
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC) - timedelta(days=1)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC) + timedelta(days=1)


class Errors(list):
    """The error strings of one request, in the order found."""

    def add(self, message: str) -> None:
        if message not in self:
            self.append(message)


def line(errors: Errors, name: str, value, *, max_length: int = FIELD_MAX, required: bool = False) -> str:
    """An optional (or required) one-line string field; "" when absent."""
    if value is None or value == "":
        if required:
            errors.add(f"'{name}' is missing or blank")
        return ""
    if not isinstance(value, str):
        errors.add(f"'{name}' must be a string")
        return ""
    if _FORBIDDEN_IN_LINE.search(value):
        errors.add(f"'{name}' contains control characters")
        return ""
    if len(value) > max_length:
        errors.add(f"'{name}' is longer than {max_length} characters")
        return ""
    return value


def summary_text(errors: Errors, name: str, value, *, required: bool, truncate: bool = False) -> str:
    """A summary: line breaks and tabs fold into spaces (templated summaries often end in one); other control
    characters are refused. Past SUMMARY_MAX it is refused, or cut with an ellipsis where the source cannot
    be asked to shorten it (Alertmanager annotations)."""
    if value is None or value == "":
        if required:
            errors.add(f"'{name}' is missing or blank")
        return ""
    if not isinstance(value, str):
        errors.add(f"'{name}' must be a string")
        return ""
    if _FORBIDDEN_IN_TEXT.search(value):
        errors.add(f"'{name}' contains control characters")
        return ""
    folded = _WHITESPACE_RUN.sub(" ", value).strip()
    if not folded and required:
        errors.add(f"'{name}' is missing or blank")
    if len(folded) > SUMMARY_MAX:
        if not truncate:
            errors.add(f"'{name}' is longer than {SUMMARY_MAX} characters")
            return ""
        folded = folded[: SUMMARY_MAX - 1] + "…"
    return folded


def json_value(errors: Errors, name: str, value) -> None:
    """Walks free-form JSON (custom_details, annotations): every key and string free of control characters
    but tab and line breaks, nesting bounded, numbers finite."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > JSON_DEPTH_MAX:
            errors.add(f"'{name}' is nested deeper than {JSON_DEPTH_MAX} levels")
            return
        if isinstance(item, str):
            if _FORBIDDEN_IN_TEXT.search(item):
                errors.add(f"'{name}' contains control characters")
                return
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                errors.add(f"'{name}' contains a number that is not finite")
                return
        elif isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str) or _FORBIDDEN_IN_TEXT.search(key):
                    errors.add(f"'{name}' contains control characters")
                    return
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def timestamp(errors: Errors, name: str, value) -> datetime | None:
    """An ISO 8601 instant (PagerDuty's "2015-07-17T08:42:58.315+0000" too; no offset: UTC), 2000–2099."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        errors.add(f"'{name}' must be an ISO 8601 timestamp")
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        errors.add(f"'{name}' must be an ISO 8601 timestamp")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # a monitoring tool that leaves the offset out means UTC
    if not _EARLIEST <= parsed < _LATEST:
        errors.add(f"'{name}' must lie between 2000 and 2099")
        return None
    return parsed


def label_value(value) -> str | None:
    """A scalar as a routing label's string, or None when it is not one (objects, lists, long text)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        return None
    if len(text) > LABEL_VALUE_MAX or _FORBIDDEN_IN_LINE.search(text):
        return None
    return text


def labels_from(mapping: dict) -> dict[str, str]:
    """The scalar entries of a mapping as routing labels, bounded in count and size; the rest are skipped
    (they stay in the event's details, which nothing routes on)."""
    labels: dict[str, str] = {}
    for name, value in mapping.items():
        if len(labels) >= LABELS_MAX:
            break
        if not isinstance(name, str) or not name or len(name) > LABEL_NAME_MAX:
            continue
        if _FORBIDDEN_IN_LINE.search(name):
            continue
        text = label_value(value)
        if text is not None:
            labels[name] = text
    return labels


def links(errors: Errors, name: str, value, *, url_key: str, text_keys: tuple[str, ...]) -> list[dict]:
    """PagerDuty's links ([{href, text}]) and images ([{src, href, alt}]): a list of small objects with a URL."""
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(f"'{name}' must be an array")
        return []
    if len(value) > LINKS_MAX:
        errors.add(f"'{name}' holds more than {LINKS_MAX} entries")
        return []
    kept = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            errors.add(f"'{name}[{index}]' must be an object")
            continue
        entry = {
            url_key: line(
                errors, f"{name}[{index}].{url_key}", item.get(url_key), max_length=URL_MAX, required=True
            )
        }
        for key in text_keys:
            max_length = URL_MAX if key == "href" else FIELD_MAX
            text = line(errors, f"{name}[{index}].{key}", item.get(key), max_length=max_length)
            if text:
                entry[key] = text
        kept.append(entry)
    return kept


def bounded_key(key: str) -> str:
    """A dedup key made of a source's own parts, cut to DEDUP_KEY_MAX by hashing the long part."""
    if len(key) <= DEDUP_KEY_MAX:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
