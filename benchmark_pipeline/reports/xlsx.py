"""A small, fast SpreadsheetML (.xlsx) writer for large plain tables.

openpyxl builds one object per cell and serialises it element by element: measured here at 16-28 s for
the ~22,000 rows × 17 columns of one year's published tables (with or without lxml), against a budget
of a few seconds for all reports. The tables need only a few features, written here directly: inline
strings, numbers, booleans, a handful of cell styles (header, percent, one decimal, integer, p-value),
column widths, a frozen header row and an autofilter. The output is deterministic (fixed zip timestamps)
and is read back with openpyxl in the tests.
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_PREFIX = "application/vnd.openxmlformats-officedocument.spreadsheetml"

# style ids (index into cellXfs below)
STYLE = {None: 0, "header": 1, "0.0%": 2, "0.0": 3, "0": 4, "0.0000": 5, "title": 6, "bold": 7, "wrap": 8}
_MISS = object()
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

STYLES_XML = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{NS_MAIN}">
<numFmts count="3"><numFmt numFmtId="164" formatCode="0.0%"/><numFmt numFmtId="165" formatCode="0.0"/><numFmt numFmtId="166" formatCode="0.0000"/></numFmts>
<fonts count="4">
<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="11"/><color rgb="FFFFFFFF"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>
</fonts>
<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="FF1F5A96"/><bgColor indexed="64"/></patternFill></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="9">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>
"""


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass
class Sheet:
    """Rows are kept as rendered cell fragments (the part of `<c ...>` after its `r` attribute)."""

    name: str
    widths: list[float] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    freeze_header: bool = False
    autofilter: bool = False

    def append(self, values: list[object], styles: list[str | None] | str | None = None) -> None:
        if not isinstance(styles, list):
            styles = [styles] * len(values)
        self.rows.append([cell_fragment(v, st) for v, st in zip(values, styles)])

    def extend_columns(self, columns: list[list[str | None]]) -> None:
        """Add rows from pre-rendered columns (see `render_column`)."""
        self.rows.extend(list(r) for r in zip(*columns))


def cell_fragment(value: object, style: str | None = None) -> str | None:
    s = STYLE.get(style, 0)
    sattr = f' s="{s}"' if s else ""
    if value is None:
        return f"{sattr}/>" if s else None
    if isinstance(value, bool):
        return f'{sattr} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return f"{sattr}><v>{value!r}</v></c>"
    text = escape(_ILLEGAL.sub("", str(value)))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'{sattr} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def render_column(values: list[object], kind: str, style: str | None = None) -> list[str | None]:
    """Fast rendering of one column: kind "float", "int" (whole numbers as integers), "bool" or "str".

    Missing values (None, NaN) become empty cells."""
    s = STYLE.get(style, 0)
    sattr = f' s="{s}"' if s else ""
    if kind in ("float", "int"):
        out: list[str | None] = []
        for v in values:
            if v is None or v != v or v in (math.inf, -math.inf):
                out.append(None)
            elif kind == "int" and float(v).is_integer():
                out.append(f"{sattr}><v>{int(v)}</v></c>")
            else:
                out.append(f"{sattr}><v>{float(v)!r}</v></c>")
        return out
    if kind == "bool":
        return [None if v is None else f'{sattr} t="b"><v>{int(bool(v))}</v></c>' for v in values]
    cache: dict[object, str | None] = {}
    out = []
    for v in values:
        frag = cache.get(v, _MISS)
        if frag is _MISS:
            frag = cache[v] = cell_fragment(v, style)
        out.append(frag)
    return out


def _sheet_xml(sheet: Sheet) -> str:
    ncols = max((len(r) for r in sheet.rows), default=1)
    letters = [column_letter(i) for i in range(1, max(ncols, 1) + 1)]
    parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS_MAIN}" '
             f'xmlns:r="{NS_REL}">']
    last = f"{letters[-1]}{max(len(sheet.rows), 1)}"
    parts.append(f'<dimension ref="A1:{last}"/>')
    if sheet.freeze_header:
        parts.append('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                     'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" '
                     'sqref="A2"/></sheetView></sheetViews>')
    else:
        parts.append('<sheetViews><sheetView workbookViewId="0"/></sheetViews>')
    parts.append('<sheetFormatPr defaultRowHeight="15"/>')
    if sheet.widths:
        parts.append("<cols>" + "".join(
            f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(sheet.widths, 1))
            + "</cols>")
    parts.append("<sheetData>")
    for r, row in enumerate(sheet.rows, 1):
        cells = "".join(f'<c r="{letter}{r}"{frag}' for letter, frag in zip(letters, row) if frag)
        parts.append(f'<row r="{r}">{cells}</row>')
    parts.append("</sheetData>")
    if sheet.autofilter and sheet.rows:
        parts.append(f'<autoFilter ref="A1:{last}"/>')
    parts.append("</worksheet>")
    return "".join(parts)


def write_xlsx(path: Path, sheets: list[Sheet]) -> Path:
    sheet_entries, rels, overrides, names = [], [], [], []
    for i, sh in enumerate(sheets, 1):
        sheet_entries.append(f'<sheet name="{escape(sh.name)}" sheetId="{i}" r:id="rId{i}"/>')
        rels.append(f'<Relationship Id="rId{i}" Type="{NS_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>')
        overrides.append(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{CT_PREFIX}.worksheet+xml"/>')
        if sh.autofilter and sh.rows:
            ncols = max(len(r) for r in sh.rows)
            quoted = sh.name.replace("'", "''")
            names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i - 1}" hidden="1">'
                         f"{escape(chr(39) + quoted + chr(39))}!$A$1:${column_letter(ncols)}${len(sh.rows)}"
                         "</definedName>")
    n = len(sheets)
    rels.append(f'<Relationship Id="rId{n + 1}" Type="{NS_REL}/styles" Target="styles.xml"/>')
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    workbook = (f'{head}<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><bookViews><workbookView/></bookViews>'
                f'<sheets>{"".join(sheet_entries)}</sheets>'
                + (f'<definedNames>{"".join(names)}</definedNames>' if names else "") + "</workbook>")
    content_types = (
        f'{head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{CT_PREFIX}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{CT_PREFIX}.styles+xml"/>'
        f'{"".join(overrides)}</Types>')
    root_rels = (f'{head}<Relationships xmlns="{NS_PKG_REL}"><Relationship Id="rId1" '
                 f'Type="{NS_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    wb_rels = f'{head}<Relationships xmlns="{NS_PKG_REL}">{"".join(rels)}</Relationships>'
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        def put(name: str, text: str) -> None:
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"), compresslevel=1)  # speed over size (~1 MB either way)

        put("[Content_Types].xml", content_types)
        put("_rels/.rels", root_rels)
        put("xl/workbook.xml", workbook)
        put("xl/_rels/workbook.xml.rels", wb_rels)
        put("xl/styles.xml", STYLES_XML)
        for i, sh in enumerate(sheets, 1):
            put(f"xl/worksheets/sheet{i}.xml", _sheet_xml(sh))
    tmp.replace(path)
    return path
