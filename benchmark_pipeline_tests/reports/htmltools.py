"""Small HTML helpers for the report tests (stdlib only)."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser


def squash(text: str) -> str:
    """Collapse ASCII whitespace only: the reports put a no-break space between number and unit."""
    return re.sub(r"[ \t\r\n\f]+", " ", text).strip()


class TableParser(HTMLParser):
    """Tables by id: a list of rows, each a list of cell texts (th and td), screen-reader-only text dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.captions: dict[str, str] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._skip = 0
        self._caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id") or f"table-{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "caption":
            self._caption = []
        elif tag == "span" and ("sr-only" in (a.get("class") or "")):
            self._skip += 1
        elif tag == "span" and self._skip:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "span" and self._skip:
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(squash("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "caption" and self._caption is not None and self._table:
            self.captions[self._table] = squash("".join(self._caption))
            self._caption = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    p = TableParser()
    p.feed(html)
    return p.tables


def visible_text(html: str) -> str:
    """Text content (SVG text and alt texts included), whitespace collapsed."""
    text = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return squash(unescape(text))


def attribute_values(html: str, name: str) -> list[str]:
    return [unescape(v) for v in re.findall(rf'\b{name}="([^"]*)"', html)]


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
