"""What typed text may contain, and how stored text is made safe for XML and mail headers (pure: no Django
models). One line (titles, names, reasons) refuses every control character and line break; a body (updates,
notes, descriptions) allows tab and newline. Every field also has a maximum length, chosen from the sizes here."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# Maximum lengths, in characters, by what the text is. A field picks the one that fits its meaning.
NAME_MAX = 100  # a team, schedule, layer, component or token name
TITLE_MAX = 200  # an incident or maintenance title, an action item, a reason
LINE_MAX = 500  # a short note typed on one line (a transition note, a severity reason)
DESCRIPTION_MAX = 2_000  # a component or team description
BODY_MAX = 5_000  # what merchants read: a public update, a maintenance body (also fits one email)
NOTE_MAX = 10_000  # what responders write for each other: a note, an incident summary
DOCUMENT_MAX = 50_000  # one section of a post-mortem
TIMELINE_MAX = NOTE_MAX + 1_000  # a note plus the words the system wraps around it

# Refused everywhere: C0 controls, DEL and C1 controls (Unicode category Cc), lone surrogates, U+FFFE/U+FFFF
# (none of them valid in XML 1.0: one in a stored update breaks every RSS/Atom feed and export carrying it), and
# the line and paragraph separators, which browsers, mail clients and JSON-in-JS readers all treat as line breaks.
_FORBIDDEN_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
# A body may also hold tabs and line feeds.
_FORBIDDEN_IN_BODY = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def forbidden_characters(value: str, *, multi_line: bool) -> list[str]:
    """The distinct characters `value` may not contain, in order of first appearance."""
    pattern = _FORBIDDEN_IN_BODY if multi_line else _FORBIDDEN_IN_LINE
    return list(dict.fromkeys(pattern.findall(value)))


def _describe(chars: list[str]) -> str:
    names = []
    for char in chars[:3]:
        name = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}.get(char)
        names.append(name or f"U+{ord(char):04X}")
    return ", ".join(names)


def validate_line(value: str) -> None:
    """One line of text: no control characters, no line breaks (titles travel in mail subjects and feeds)."""
    if not isinstance(value, str):
        return
    bad = forbidden_characters(value, multi_line=False)
    if bad:
        raise ValidationError(
            f"Use a single line of plain text (this contains {_describe(bad)}).", code="control_characters"
        )


def validate_body(value: str) -> None:
    """Multi-line text: tab and newline are fine; other control characters are not."""
    if not isinstance(value, str):
        return
    bad = forbidden_characters(value, multi_line=True)
    if bad:
        raise ValidationError(
            f"Use plain text: letters, tabs and line breaks (this contains {_describe(bad)}).",
            code="control_characters",
        )


def normalise_newlines(value: str) -> str:
    """Browsers send textarea line breaks as CRLF; a body stores them as LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


# Output side: rows stored before these rules (or written by the system) still render safely.

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]+")
_SPACES = re.compile(r"\s{2,}")


def xml_safe(value: str) -> str:
    """Drops the characters XML 1.0 cannot carry at all (escaping does not help for these)."""
    return _XML_INVALID.sub("", value or "")


def one_line(value: str) -> str:
    """For a mail subject or header, an SMS or a feed title: control characters and line breaks become spaces."""
    return _SPACES.sub(" ", _NOT_ONE_LINE.sub(" ", value or "")).strip()
