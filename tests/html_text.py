"""The text a reader sees on a rendered page, for assertions about words rather than markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"script", "style", "template", "head"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self._skipping += 1
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in _SKIP and self._skipping:
            self._skipping -= 1
        self.parts.append(" ")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """Text outside script/style/head, each tag a word break, runs of whitespace as one space."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


def element_text(html: str, marker: str) -> str:
    """The visible text of the first element whose start tag contains `marker` (e.g. 'data-region="NA"')."""
    start = html.index(marker)
    open_at = html.rindex("<", 0, start)
    tag = re.match(r"<(\w+)", html[open_at:]).group(1)
    depth, position = 0, open_at
    for match in re.finditer(rf"<(/?){tag}\b[^>]*>", html[open_at:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            position = open_at + match.end()
            break
    return visible_text(html[open_at:position])
