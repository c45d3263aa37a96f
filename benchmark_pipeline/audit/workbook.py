"""Excel workbooks: every cell of every sheet (values and formulas, read with openpyxl in read-only mode),
sheet names, document properties, defined names, and every other XML part of the package (comments,
headers and footers, charts, drawings, ...), which read-only openpyxl does not load.

Cell values are read with the same rules as openpyxl's read-only worksheet (`iter_rows(values_only=True)`
after `reset_dimensions()`), by one of two readers: a streaming tokenizer of the `<sheetData>` XML for
sheets written in the plain forms XlsxWriter and openpyxl write (values, shared and inline strings, empty
cells: ~30x faster than openpyxl's per-cell objects), and openpyxl itself for every other sheet (formulas,
rich text, namespace prefixes, CDATA, entities in attributes, ...). The tokenizer must cover the whole of
`<sheetData>` or it gives up, so no cell is ever skipped. It finds the sheet's part, the shared strings
and the date styles in the package as openpyxl's reader finds them (`open_workbook`), so both readers see the
same package.

Sheets are also checked for disclosure: a header row naming a geography level or kommune column (English
release column names, or common Danish ones: "Niveau", "Kommune", "Antal svar", ...) starts a table, which
runs until the next empty row and is checked like an HTML table.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils import get_column_letter
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS, XLSM, XLSX, XLTM, XLTX

from benchmark_pipeline import ooxml
from benchmark_pipeline.audit import model
from benchmark_pipeline.audit.binary import PNG_SIGNATURE, scan_png
from benchmark_pipeline.audit.context import AuditContext
from benchmark_pipeline.audit.detect import HARD, TextStream
from benchmark_pipeline.audit.tables import Grid, check_grid, column_role, is_empty

_HEADER_SEARCH_ROWS = 30
# Parts openpyxl reads cell by cell (scanned there, with sheet and cell in the location).
_COVERED = ("xl/worksheets/sheet", "xl/sharedStrings.xml", "docProps/core.xml")
_HEADER_FOOTER = re.compile(rb"<(?:\w+:)?headerFooter\b.*?</(?:\w+:)?headerFooter>", re.S)


def scan_workbook(ctx: AuditContext, path: Path, rel: str) -> None:
    try:
        wb, sources = open_workbook(path)
    except Exception as exc:  # noqa: BLE001 - any parse failure
        ctx.report(rel, "", model.UNREADABLE_FILE, f"not a readable workbook ({type(exc).__name__}); it cannot be "
                   "audited")
        return
    try:
        stream = TextStream()
        props = wb.properties
        for name in ("title", "subject", "creator", "description", "keywords", "lastModifiedBy", "category",
                     "identifier", "language", "contentStatus", "version", "revision"):
            stream.add(getattr(props, name, None), f"document property {name}", HARD)
        for name in wb.defined_names:
            stream.add(name, "defined names", HARD)
        for number, ws in enumerate(wb.worksheets, start=1):
            stream.add(ws.title, f"name of sheet #{number}", HARD)
            sheet = f"sheet '{ctx.safe_label(ws.title, f'#{number}')}'"
            rows = _fast_rows(sources[number - 1])
            if rows is None:
                if hasattr(ws, "reset_dimensions"):
                    ws.reset_dimensions()  # a wrong <dimension> tag must not hide cells
                rows = [list(r) for r in ws.iter_rows(values_only=True)]
            cells_of: dict[str, list[tuple[int, int]]] = {}
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    t = type(value)
                    if t is str:
                        if not value.strip():
                            continue
                        key = value
                    elif t is int:
                        key = str(value)
                    else:
                        continue
                    cells = cells_of.get(key)
                    if cells is None:
                        cells_of[key] = [(r, c)]
                    else:
                        cells.append((r, c))
            for text, cells in cells_of.items():
                stream.add(text, _cells_location(sheet, cells, get_column_letter), HARD)
            for grid in _sheet_grids(rel, sheet, rows, 1):
                check_grid(ctx, grid)
        ctx.scan(rel, stream)
    finally:
        wb.close()
    _scan_package_parts(ctx, path, rel)


# One token of <sheetData>: a row start or end, or one whole cell in the plain form XlsxWriter and openpyxl
# write (attributes r, s, t in that order; a value, an inline string, or nothing). The last alternative
# takes any other single character: formulas, rich text, other cell attributes, prefixed names, CDATA,
# comments or whitespace between elements all end up there, and the sheet then goes to openpyxl.
_SHEET_TOKEN = re.compile(
    r'(<row)(?: r="([0-9]+)")?((?: [A-Za-z_][\w.:-]*="[^"&<]*")*)(/?)>'  # 1 <row, 2 r, 3 attributes, 4 "/"
    r'|(</row>)'  # 5
    r'|<c(?: r="([A-Z]{1,3})[0-9]+")?(?: s="([0-9]+)")?(?: t="([A-Za-z]+)")?'  # 6 column, 7 style, 8 type
    r'(?:/>|>(?:<v>([^<]*)</v>|<v/>|(<is>)(?:<t(?: xml:space="preserve")?>([^<]*)</t>|<t/>)</is>|(<is/>))?</c>)'
    r'|([\s\S])'  # 13: anything else
)
_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


class _Fallback(Exception):
    """The sheet is not in a form the fast reader knows: read it with openpyxl."""


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    if "&" in _ENTITY.sub("", text):
        raise _Fallback  # not a predefined or numeric entity: let the XML parser judge the file

    def one(m: re.Match) -> str:
        name = m.group(1)
        if name[0] == "#":
            return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
        return _NAMED[name]

    return _ENTITY.sub(one, text)


_COLUMN_CACHE: dict[str, int] = {}


def _column_index(letters: str) -> int:
    n = _COLUMN_CACHE.get(letters)
    if n is None:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        _COLUMN_CACHE[letters] = n
    return n


@dataclass(frozen=True)
class SheetSource:
    """What the streaming reader needs to read one sheet as openpyxl reads it: the sheet's XML part and
    the workbook's shared strings, date and duration styles and date epoch."""

    path: Path
    part: str | None  # None: the sheet is read by openpyxl
    shared_strings: list
    date_styles: frozenset
    timedelta_styles: frozenset
    epoch: object


# What openpyxl's reader looks parts up by: the content types of [Content_Types].xml, and a fixed styles part.
_WORKBOOK_TYPES = (XLTM, XLTX, XLSM, XLSX)  # in the order openpyxl tries them
_STYLES_PART = "xl/styles.xml"
_MAIN = f"{{{SHEET_MAIN_NS}}}"


def open_workbook(path: Path):
    """The workbook as `openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)`
    returns it, and one `SheetSource` per worksheet (in `wb.worksheets` order).

    The streaming reader finds what openpyxl's reader finds, from the package itself: the workbook part
    (by content type, and the package's relationships must name the same), each sheet's part (through the
    workbook's relationships, in the workbook's order, with the same titles as openpyxl's worksheets), the
    shared strings (read as openpyxl reads them; a table with rich text or phonetic runs hands every sheet to
    openpyxl) and the date and duration styles (openpyxl's own number-format rules). Where any of these
    cannot be matched, openpyxl reads every sheet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    titles = [ws.title for ws in wb.worksheets]
    try:
        with zipfile.ZipFile(path) as archive:
            found = _package_sources(archive, titles)
    except Exception:  # noqa: BLE001 - a package openpyxl reads but this cannot: openpyxl reads its sheets
        found = None
    parts, strings, date_styles, timedelta_styles = found or ([None] * len(titles), [], frozenset(), frozenset())
    return wb, [SheetSource(path, part, strings, date_styles, timedelta_styles, wb.epoch) for part in parts]


def _package_sources(archive: zipfile.ZipFile, titles: list[str]):
    """(parts, shared strings, date styles, duration styles) for the streaming reader, or None."""
    types: dict[str, str] = {}
    for element in ElementTree.fromstring(archive.read("[Content_Types].xml")):
        if element.tag.rsplit("}", 1)[-1] == "Override":  # the first part of each type, as openpyxl takes it
            types.setdefault(element.get("ContentType", ""), element.get("PartName", "")[1:])
    workbook = next((types[kind] for kind in _WORKBOOK_TYPES if kind in types), None)
    if workbook is None or workbook != ooxml.workbook_part(archive):
        return None
    names = set(archive.namelist())
    sheets = [s for s in ooxml.package_sheets(archive) if s.part in names and "chartsheet" not in s.kind]
    if [s.title for s in sheets] != titles:
        return None
    strings = _shared_strings(archive, types.get(SHARED_STRINGS))
    if strings is None:
        return None
    return [s.part for s in sheets], strings, *_number_styles(archive)


def _shared_strings(archive: zipfile.ZipFile, part: str | None) -> list[str] | None:
    """The shared strings as openpyxl's `read_string_table` gives them (each `<si>`'s text, "x005F_"
    removed), or None when an entry is more than one plain `<t>` (rich text, phonetic runs)."""
    if part is None:
        return []
    strings = []
    for si in ElementTree.fromstring(archive.read(part)).iter(f"{_MAIN}si"):
        children = list(si)
        if len(children) > 1 or (children and (children[0].tag != f"{_MAIN}t" or len(children[0]))):
            return None
        text = (children[0].text or "") if children else ""
        strings.append(text.replace("x005F_", ""))
    return strings


def _number_styles(archive: zipfile.ZipFile) -> tuple[frozenset, frozenset]:
    """The cell styles (indexes into `cellXfs`) whose number format is a date and a duration, by openpyxl's
    rules (`is_date_format`, `is_timedelta_format` of the custom or built-in format)."""
    if _STYLES_PART not in archive.namelist():
        return frozenset(), frozenset()
    root = ElementTree.fromstring(archive.read(_STYLES_PART))
    custom = {int(n.get("numFmtId")): n.get("formatCode") for n in root.iterfind(f"{_MAIN}numFmts/{_MAIN}numFmt")}
    dates, durations = set(), set()
    for index, xf in enumerate(root.iterfind(f"{_MAIN}cellXfs/{_MAIN}xf")):
        number = int(xf.get("numFmtId", 0))
        fmt = custom[number] if number in custom else builtin_format_code(number)
        if is_date_format(fmt):
            dates.add(index)
        if is_timedelta_format(fmt):
            durations.add(index)
    return frozenset(dates), frozenset(durations)


def _fast_rows(source: SheetSource) -> list[list] | None:
    """The sheet's rows as openpyxl's read-only `iter_rows(values_only=True)` returns them after
    `reset_dimensions()`, or None when the sheet must be read by openpyxl."""
    if source.part is None:
        return None
    try:
        with zipfile.ZipFile(source.path) as archive:
            xml = archive.read(source.part)
        return _parse_sheet(xml, source.shared_strings, source.date_styles, source.timedelta_styles, source.epoch)
    except Exception:  # noqa: BLE001 - _Fallback or anything unexpected: openpyxl decides
        return None


def _parse_sheet(xml: bytes, shared, date_formats, timedelta_formats, epoch) -> list[list]:
    from openpyxl.utils.datetime import from_excel, from_ISO8601

    start = xml.find(b"<sheetData")
    if start < 0 or b"\r" in xml or xml.find(b"<sheetData", start + 1) >= 0:
        raise _Fallback
    open_end = xml.index(b">", start)
    if xml[open_end - 1:open_end] == b"/":  # <sheetData/>
        body_start = body_end = open_end + 1
    else:
        if xml[start:open_end + 1] != b"<sheetData>":
            raise _Fallback
        body_start = open_end + 1
        body_end = xml.index(b"</sheetData>", body_start)
    if xml.count(b"<row") != xml.count(b"<row", body_start, body_end):
        raise _Fallback  # rows outside <sheetData> (openpyxl would read them)
    body = xml[body_start:body_end].decode("utf-8")

    rows: list[list] = []
    counter = 1  # the next row number openpyxl yields
    row_no = 0
    cols: list[int] | None = None  # the open row's column numbers and values
    vals: list = []
    in_order = True  # the open row's columns are 1, 2, 3, ... so far
    col = 0
    column_index = _column_index
    date_style: dict[str, bool] = {}  # style index -> whether it is a date or time format
    for (row_open, r_attr, row_attrs, row_closed, row_end, letters, style, t, v, is_open, inline, is_empty_,
         other) in _SHEET_TOKEN.findall(body):
        if other:
            raise _Fallback
        if row_open:
            if cols is not None or ' r="' in row_attrs:
                raise _Fallback  # nested rows, or a row number after other attributes
            row_no = int(r_attr) if r_attr else row_no + 1
            col = 0
            cols, vals, in_order = [], [], True
            if row_closed:
                counter = _emit(rows, counter, row_no, cols, vals, in_order)
                cols = None
            continue
        if row_end:
            if cols is None:
                raise _Fallback
            counter = _emit(rows, counter, row_no, cols, vals, in_order)
            cols = None
            continue
        if cols is None:
            raise _Fallback  # a cell outside a row
        col = column_index(letters) if letters else col + 1
        if t == "inlineStr":
            value = (_unescape(inline) if inline else "") if (is_open or is_empty_) else None
        elif not v:
            value = None
        else:
            value = _unescape(v) if "&" in v else v
            if t == "s":
                value = shared[int(value)]
            elif t == "" or t == "n":
                value = float(value) if ("." in value or "E" in value or "e" in value) else int(value)
                if style:
                    is_date = date_style.get(style)
                    if is_date is None:
                        is_date = date_style[style] = int(style) in date_formats
                    if is_date:
                        try:
                            value = from_excel(value, epoch, timedelta=int(style) in timedelta_formats)
                        except (OverflowError, ValueError):
                            value = "#VALUE!"
            elif t == "b":
                value = bool(int(value))
            elif t == "d":
                value = from_ISO8601(value)
        in_order = in_order and col == len(cols) + 1
        cols.append(col)
        vals.append(value)
    if cols is not None:
        raise _Fallback
    return rows


def _emit(rows: list[list], counter: int, row_no: int, cols: list[int], vals: list, in_order: bool) -> int:
    """Append one parsed row the way openpyxl's read-only `_cells_by_row` yields it."""
    while counter < row_no:  # missing rows
        rows.append([])
        counter += 1
    if counter <= row_no:
        if not cols:
            rows.append([])
        elif in_order:  # A, B, C, ... in order
            rows.append(vals)
        else:
            width = cols[-1]
            row = [None] * width
            for c, value in zip(cols, vals):
                if 1 <= c <= width:
                    row[c - 1] = value
            rows.append(row)
        counter += 1
    return counter


def _cells_location(sheet: str, cells: list[tuple[int, int]], letter) -> object:
    def locate() -> str:
        r, c = cells[0]
        more = f" (and {len(cells) - 1} more cell{'s' if len(cells) > 2 else ''})" if len(cells) > 1 else ""
        return f"{sheet} cell {letter(c + 1)}{r + 1}{more}"
    return locate


def _sheet_grids(rel: str, sheet: str, rows: list[list], first_row: int) -> list[Grid]:
    grids: list[Grid] = []
    r = 0
    while r < len(rows):
        header = rows[r]
        roles = [column_role(h) if isinstance(h, str) else "" for h in header]
        if ("level" in roles or "kommune" in roles) and any(x in roles for x in ("n", "count", "suppressed", "value")):
            body: list[list] = []
            start = r + 1
            k = start
            while k < len(rows) and any(not is_empty(v) for v in rows[k]):
                body.append(rows[k])
                k += 1
            offset = first_row + start

            def locate(i: int, offset: int = offset) -> str:
                return f"{sheet} row {offset + i}"

            grids.append(Grid(rel, None, ["" if h is None else str(h) for h in header], body, locate, display=True))
            r = k
        r += 1
    return grids


def _scan_package_parts(ctx: AuditContext, path: Path, rel: str) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        return
    with archive:
        for info in archive.infolist():
            name = info.filename
            if name.endswith("/"):
                continue
            where = f"package part {name}"
            if name.startswith(_COVERED):
                if name.startswith("xl/worksheets/sheet"):  # headers and footers: not read cell by cell
                    for m in _HEADER_FOOTER.finditer(archive.read(info)):
                        _scan_xml(ctx, rel, m.group(0), f"{where} (header/footer)", small_n=True)
                continue
            data = archive.read(info)
            if name.endswith((".xml", ".rels", ".vml")):
                _scan_xml(ctx, rel, data, where, small_n=name.startswith(("xl/charts/", "xl/comments")))
            elif data.startswith(PNG_SIGNATURE):
                scan_png(ctx, rel, data, where=f"{where}, ")
            else:
                ctx.report(rel, where, model.UNAUDITABLE_FILE, "embedded binary part cannot be audited; a workbook "
                           "in a release holds only sheets (and PNG images)")


def _scan_xml(ctx: AuditContext, rel: str, data: bytes, where: str, *, small_n: bool) -> None:
    stream = TextStream()
    try:
        for element in ElementTree.fromstring(data).iter():
            for value in element.attrib.values():
                stream.add(value, where, HARD)
            stream.add(element.text, where, HARD)
            stream.add(element.tail, where, HARD)
    except ElementTree.ParseError:
        stream.add(data.decode("utf-8", "replace"), where, HARD)
    ctx.scan(rel, stream, small_n=small_n)
