"""HTML and SVG: visible text, every attribute value (alt, aria-label, title, ...), inline SVG text with its
<title> and <desc>, scripts, styles, comments, embedded data: URIs, and the tables the page shows.

Built on the standard library's lenient `html.parser`, which reads HTML and SVG (XML) alike and never
raises on malformed markup.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from html import unescape
from html.parser import HTMLParser

from benchmark_pipeline.audit import model
from benchmark_pipeline.audit.context import AuditContext
from benchmark_pipeline.audit.detect import HARD, INLINE, SOFT, TextStream
from benchmark_pipeline.audit.tables import Grid, check_grid

# Elements that do not break a word: their text continues the surrounding text.
_INLINE = {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "i", "ins", "kbd",
           "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "tspan", "label"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
         "wbr"}
_RAW = {"script", "style"}
_DATA_URI_IN_TEXT = re.compile(r"data:[\w.+-]+/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,[A-Za-z0-9+/=\s]+")


# Locations of attribute values and text runs, formatted only when a finding needs one (a page has thousands
# of them and almost none is ever reported): see detect.Location.
_ATTRIBUTE_AT = "{}line {}: {} attribute of <{}>"
_TEXT_AT = "{}line {}: text of <{}>"
_SVG_TEXT_AT = "{}line {}: text of <{}> in inline <svg>"


class _Extractor:
    """What the audit takes from a page, built from its parse events (`start`, `end`, `data`, `comment`,
    `pi`, each with the line it starts on) from either of two tokenizers: see `scan_markup`."""

    def __init__(self, ctx: AuditContext, rel: str, prefix: str, depth: int) -> None:
        self.ctx, self.rel, self.prefix, self.depth = ctx, rel, prefix, depth
        self.svg_file = not rel.endswith((".html", ".htm"))  # an SVG file (or embedded SVG in one)
        self.text = TextStream()  # visible text, SVG text, <title>/<desc>
        self.other = TextStream()  # attribute values, scripts, styles, comments
        self.stack: list[str] = []
        self.pending_break = False
        self.tables: list[dict] = []  # open <table> builders
        self.grids: list[Grid] = []
        self.line = 1  # the line the current event starts on

    # -- helpers
    def _where(self, what: str) -> str:
        return f"{self.prefix}line {self.line}: {what}"

    # -- elements
    def start(self, tag: str, attrs, closed: bool) -> None:
        is_clean = self.ctx.is_clean
        for name, value in attrs:
            if value is None or not value.strip():
                continue
            if value.lstrip()[:5].lower() == "data:":
                scan_data_uri(self.ctx, self.rel, value.strip(), self._where(f"{name} attribute of <{tag}>"),
                              self.depth)
            elif not is_clean(value):  # a page repeats a few thousand values (classes, ids, coordinates)
                self.other.add(value, (_ATTRIBUTE_AT, self.prefix, self.line, name, tag), HARD)
        if tag not in _INLINE:
            self.pending_break = True
        self._table_start(tag)
        if not closed and tag not in _VOID:
            self.stack.append(tag)
        elif closed:
            self._table_end(tag)

    def end(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack:
                if self.stack.pop() == tag:
                    break
        if tag not in _INLINE:
            self.pending_break = True
        self._table_end(tag)

    # -- character data
    def data(self, data: str) -> None:
        element = self.stack[-1] if self.stack else ""
        if element in _RAW:
            where = self._where(f"content of <{element}>")

            def embedded(m: re.Match) -> str:
                scan_data_uri(self.ctx, self.rel, m.group(0), where, self.depth)
                return " "

            self.other.add(_DATA_URI_IN_TEXT.sub(embedded, data), where, HARD)
            return
        element = element or "document"
        at = _SVG_TEXT_AT if element != "svg" and not self.svg_file and "svg" in self.stack else _TEXT_AT
        self.text.add(data, (at, self.prefix, self.line, element), SOFT if self.pending_break else INLINE)
        if data.strip():
            self.pending_break = False
        self._table_data(data)

    def comment(self, data: str) -> None:
        self.other.add(data, self._where("comment"), HARD)

    def pi(self, data: str) -> None:
        self.other.add(data, self._where("processing instruction"), HARD)

    # -- tables shown on the page (checked for disclosure like workbook sheets)
    def _table_start(self, tag: str) -> None:
        if tag == "table":
            self.tables.append({"rows": [], "lines": [], "row": None, "cell": None})
        elif not self.tables:
            return
        t = self.tables[-1] if self.tables else None
        if t is None:
            return
        if tag == "tr":
            self._close_row(t)
            t["row"] = []
            t["lines"].append(self.line)
        elif tag in ("td", "th"):
            if t["row"] is None:  # a cell outside any <tr>
                t["row"] = []
                t["lines"].append(self.line)
            self._close_cell(t)
            t["cell"] = []

    def _table_end(self, tag: str) -> None:
        if not self.tables:
            return
        t = self.tables[-1]
        if tag in ("td", "th"):
            self._close_cell(t)
        elif tag == "tr":
            self._close_row(t)
        elif tag == "table":
            self._close_row(t)
            self.tables.pop()
            self._emit_grid(t)

    def _table_data(self, data: str) -> None:
        if self.tables and self.tables[-1]["cell"] is not None:
            self.tables[-1]["cell"].append(data)

    @staticmethod
    def _close_cell(t: dict) -> None:
        if t["cell"] is not None and t["row"] is not None:
            t["row"].append(" ".join("".join(t["cell"]).split()))
        t["cell"] = None

    def _close_row(self, t: dict) -> None:
        self._close_cell(t)
        if t["row"] is not None:
            t["rows"].append(t["row"])
        t["row"] = None

    def _emit_grid(self, t: dict) -> None:
        """The first row is the header; a table whose header names no geography column is not checked."""
        rows, lines = t["rows"], t["lines"]
        if len(rows) < 2:
            return
        header, body, body_lines = rows[0], rows[1:], lines[1:]
        prefix = self.prefix
        grid = Grid(self.rel, None, header, body,
                    lambda r: f"{prefix}line {body_lines[r] if r < len(body_lines) else '?'}: table row {r + 1}",
                    display=True)
        self.grids.append(grid)


def scan_markup(ctx: AuditContext, rel: str, markup: str, *, prefix: str = "", depth: int = 0) -> None:
    """Scan an HTML page or SVG image (also one embedded in another page, with a location prefix)."""
    parser = _Extractor(ctx, rel, prefix, depth)
    try:
        events = fast_events(markup)
        if events is None:
            _HTMLParserDriver(parser).run(markup)
        else:
            replay(events, parser)
    except Exception:  # noqa: BLE001 - html.parser rarely raises; fall back to the raw text
        ctx.report(rel, prefix.rstrip(": "), model.UNREADABLE_FILE,
                   "markup could not be parsed completely; its raw text was scanned instead")
        raw = TextStream()
        for number, line in enumerate(markup.splitlines(), start=1):
            raw.add(line, f"{prefix}line {number}", SOFT)
        ctx.scan(rel, raw)
        return
    ctx.scan(rel, parser.text)
    ctx.scan(rel, parser.other)
    for grid in parser.grids:
        check_grid(ctx, grid)


def scan_data_uri(ctx: AuditContext, rel: str, uri: str, where: str, depth: int = 0) -> None:
    """An embedded data: URI: SVG/HTML/text is scanned like a file, PNG for its text chunks, others flagged."""
    from benchmark_pipeline.audit.binary import scan_png

    head, _, payload = uri.partition(",")
    media = head[5:].split(";")[0].strip().lower() or "text/plain"
    try:
        data = (base64.b64decode(re.sub(r"\s+", "", payload), validate=False) if ";base64" in head.lower()
                else urllib.parse.unquote_to_bytes(payload))
    except (binascii.Error, ValueError):
        ctx.report(rel, where, model.UNAUDITABLE_FILE, f"embedded {media} data cannot be decoded, so it cannot be "
                   "audited")
        return
    nested = f"{where} → embedded {media}, "
    if depth > 3:
        ctx.report(rel, where, model.UNAUDITABLE_FILE, "data nested too deeply to audit")
        return
    if media in ("image/svg+xml", "text/html", "application/xhtml+xml", "text/xml", "application/xml"):
        scan_markup(ctx, rel, data.decode("utf-8", "replace"), prefix=nested, depth=depth + 1)
    elif media.startswith("text/") or media in ("application/json", "application/javascript"):
        stream = TextStream()
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            stream.add(line, f"{nested}line {number}", SOFT)
        ctx.scan(rel, stream)
    elif media == "image/png":
        scan_png(ctx, rel, data, where=nested)
    elif media.startswith("font/") or media in ("application/font-woff", "application/x-font-woff",
                                                "application/vnd.ms-fontobject", "application/x-font-ttf"):
        note = f"{rel}: embedded font(s) were not inspected (fonts carry no survey data)"
        if note not in ctx.notes:
            ctx.notes.append(note)
    else:
        ctx.report(rel, where, model.UNAUDITABLE_FILE, f"embedded {media} data cannot be audited; embed charts as "
                   "SVG or PNG")


# -- the two tokenizers ------------------------------------------------------------------------------------------

class _HTMLParserDriver(HTMLParser):
    """The standard library's lenient parser, driving an `_Extractor` (every page it reads, any markup)."""

    def __init__(self, sink: _Extractor) -> None:
        super().__init__(convert_charrefs=True)
        self.sink = sink

    def run(self, markup: str) -> None:
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.sink.line = self.getpos()[0]
        self.sink.start(tag, attrs, False)

    def handle_startendtag(self, tag, attrs):
        self.sink.line = self.getpos()[0]
        self.sink.start(tag, attrs, True)

    def handle_endtag(self, tag):
        self.sink.line = self.getpos()[0]
        self.sink.end(tag)

    def handle_data(self, data):
        self.sink.line = self.getpos()[0]
        self.sink.data(data)

    def handle_comment(self, data):
        self.sink.line = self.getpos()[0]
        self.sink.comment(data)

    def unknown_decl(self, data):
        if data.upper().startswith("CDATA["):
            self.sink.line = self.getpos()[0]
            self.sink.data(data[6:])

    def handle_pi(self, data):
        self.sink.line = self.getpos()[0]
        self.sink.pi(data)


# The fast tokenizer reads markup written in the plain forms the reports use, and gives the same events, with
# the same lines, as html.parser: text; start tags with lower-case-able names and attributes that are bare or
# "double"/'single' quoted, separated by ASCII whitespace; end tags; comments; <!DOCTYPE>; the raw text of
# <script> and <style>. Anything else (a "<" that starts none of these, unquoted values, "<?", "<![CDATA[",
# other declarations, an unterminated construct) and it gives up before any event is used, and html.parser
# reads the page. ~5x faster than html.parser on a report page.
_WS = "[ \\t\\n\\r\\f]"
_ATTRS = rf"((?:{_WS}+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:=\"[^\"]*\"|='[^']*')?)*)({_WS}*)"  # attributes, whitespace
_RAW_NAME = "(?:[sS][cC][rR][iI][pP][tT]|[sS][tT][yY][lL][eE])"
_TOKEN = re.compile(
    r"([^<]+)"  # 1 text
    rf"|<({_RAW_NAME}){_ATTRS}>([\s\S]*?)(</\s*{_RAW_NAME}\s*>)"  # 2 script/style 3-4, 5 raw text, 6 its end
    rf"|<([a-zA-Z][a-zA-Z0-9-]*){_ATTRS}(/?)>"  # 7 tag, 8-9, 10 "/"
    rf"|</([a-zA-Z][-.a-zA-Z0-9:_]*)({_WS}*)>"  # 11 end tag, 12
    r"|<!--([\s\S]*?)(--\s*>)"  # 13 comment, 14: it ends at the first "--" (whitespace) ">", as in html.parser
    r"|(<![dD][oO][cC][tT][yY][pP][eE][^>]*>)"  # 15 doctype
    r"|(<)"  # 16 anything else: html.parser reads the page
)
_ATTRIBUTE = re.compile(rf"{_WS}+([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:=(\"[^\"]*\"|'[^']*'))?")


def _attributes(text: str) -> list[tuple[str, str | None]]:
    """As html.parser gives them: lower-case names; values unquoted and unescaped, None when absent."""
    attrs = []
    for name, value in _ATTRIBUTE.findall(text):
        if value:
            value = value[1:-1]
            if "&" in value:
                value = unescape(value)
        else:
            value = None
        attrs.append((name.lower(), value))
    return attrs


def fast_events(markup: str) -> list[tuple] | None:
    """The page's events as (method, line, arguments) in order, or None when html.parser must read it."""
    events: list[tuple] = []
    append = events.append
    line = 1
    for (text, raw_tag, raw_attrs, raw_ws, raw_text, raw_end, tag, attrs, ws, closed, end_tag, end_ws, comment,
         comment_end, doctype, other) in _TOKEN.findall(markup):
        if text:
            append(("data", line, (unescape(text) if "&" in text else text,)))
            line += text.count("\n")
        elif tag:
            tag = tag.lower()
            if tag in _RAW and not closed:
                return None  # a <script> or <style> without its end tag
            append(("start", line, (tag, _attributes(attrs) if attrs else [], closed == "/")))
            if attrs:
                line += attrs.count("\n")
            if ws:
                line += ws.count("\n")
        elif end_tag:
            append(("end", line, (end_tag.lower(),)))
            if end_ws:
                line += end_ws.count("\n")
        elif raw_tag:
            tag = raw_tag.lower()
            if raw_end != f"</{tag}>":
                return None  # not the end html.parser takes for this element
            append(("start", line, (tag, _attributes(raw_attrs) if raw_attrs else [], False)))
            line += raw_attrs.count("\n") + raw_ws.count("\n")
            if raw_text:
                append(("data", line, (raw_text,)))
                line += raw_text.count("\n")
            append(("end", line, (tag,)))
        elif other:
            return None
        elif doctype:
            line += doctype.count("\n")  # a declaration: html.parser hands it to handle_decl, unused here
        else:
            append(("comment", line, (comment,)))
            line += comment.count("\n") + comment_end.count("\n")
    return events


def replay(events: list[tuple], sink: _Extractor) -> None:
    for method, line, args in events:
        sink.line = line
        getattr(sink, method)(*args)
