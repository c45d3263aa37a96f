"""Excel workbooks: every cell of every sheet (values and formulas, read with openpyxl in read-only mode),
sheet names, document properties, defined names, and every other XML part of the package (comments,
headers and footers, charts, drawings, ...), which read-only openpyxl does not load.

Sheets are also checked for disclosure: a header row naming a geography level or kommune column (English
release column names, or common Danish ones: "Niveau", "Kommune", "Antal svar", ...) starts a table, which
runs until the next empty row and is checked like an HTML table.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path
from xml.etree import ElementTree

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
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(path, read_only=True, data_only=False, keep_links=False)
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
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()  # a wrong <dimension> tag must not hide cells
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            cells_of: dict[str, list[tuple[int, int]]] = {}
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    t = type(value)
                    if t is str or t is int:
                        if t is str and not value.strip():
                            continue
                        cells_of.setdefault(str(value), []).append((r, c))
            for text, cells in cells_of.items():
                stream.add(text, _cells_location(sheet, cells, get_column_letter), HARD)
            for grid in _sheet_grids(rel, sheet, rows, 1):
                check_grid(ctx, grid)
        ctx.scan(rel, stream)
    finally:
        wb.close()
    _scan_package_parts(ctx, path, rel)


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
