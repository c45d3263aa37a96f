"""Excel workbook exports, read and written: every workbook layout reads its sheets through `WORKBOOK`.

Before openpyxl reads a workbook, the archive's declared sizes are checked (a zip bomb is refused), and
before a sheet is read its XML is checked for formulas without a calculated value (openpyxl would read
them as blank answers).
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from .errors import LayoutError, UnreadableExportError
from .raw import FileKind, header_key, unique_header
from .values import shown

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
HIDDEN_STATES = frozenset({"hidden", "veryHidden"})


def cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value).strip()
    return text or None


# --------------------------------------------------------------------------- the archive, before openpyxl reads it

# Limits on what a workbook may unpack to, from the declared sizes in the zip's directory. Measured on the
# sample writer's workbooks (`generate-sample --layout msforms_xlsx|surveyxact_xlsx`) and on the same
# workbooks rewritten as Excel stores them (text as shared strings):
#   100,000 respondents: Forms 11.3 MB packed, 124 MB unpacked (sheet ratio 10.9; as Excel: sheet 7.2,
#     sharedStrings.xml 20.6); SurveyXact 10.6 MB, 104 MB (9.8; as Excel: 8.9 and 12.3);
#   1,000,000 respondents, Forms: 113 MB packed, 1.26 GB unpacked (ratio 11.1; as Excel: 0.96 GB,
#     sheet 7.3, sharedStrings.xml 388 MB at 21.1);
#   the most repetitive sheets a real export could hold (100,000 rows of 40 zeros, of non-responses, of one
#     repeated string): ratios 13.8, 7.6 and 7.7, since every cell spells its own row number.
# A zip bomb is out of all proportion: 400 MB of shared strings in 0.4-1.4 MB is a ratio of 300-1,000.
MAX_UNPACKED_BYTES = 4 * 1024**3  # 3.4 times the million-respondent workbook
MAX_COMPRESSION_RATIO = 100  # 4.7 times the highest ratio measured (21.1)
RATIO_CHECKED_FROM_BYTES = 1024**2  # smaller parts cannot cost memory whatever their ratio


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def check_archive(path: Path) -> None:
    """Refuse a workbook whose parts would unpack to far more than any survey export, before anything is
    unpacked.

    The declared sizes bound what reading can cost: Python's zipfile (3.11, `ZipExtFile._read1`) inflates a
    stored or deflated member in steps of at most the size asked for and cuts it at the `file_size` the
    zip's central directory declares, then refuses it with "Bad CRC-32" if it was longer (verified in
    test_workbook.py). Other compression methods inflate a whole step at once, and Excel never uses them.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path) from None
    again = "export it again from the survey tool (or open it in Excel and save a copy) and try again"
    for part in parts:
        if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnreadableExportError(
                f"the workbook's part {part.filename!r} is compressed with method {part.compress_type}, which "
                f"Excel does not write; {again}", file=path)
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size >= RATIO_CHECKED_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise UnreadableExportError(
                f"the workbook's part {part.filename!r} would unpack from {_mb(part.compress_size)} to "
                f"{_mb(part.file_size)}, {ratio:,.0f} times its packed size (survey exports stay near 10-20 "
                f"times, the limit is {MAX_COMPRESSION_RATIO}); a file like this is a zip bomb, so it is not "
                f"opened; {again}", file=path)
    total = sum(part.file_size for part in parts)
    if total > MAX_UNPACKED_BYTES:
        raise UnreadableExportError(
            f"the workbook would unpack to {_mb(total)} in all, more than the limit of "
            f"{_mb(MAX_UNPACKED_BYTES)} (a million respondents unpack to about 1,300 MB), so it is not opened; "
            f"{again}", file=path)


# --------------------------------------------------------------------------- formulas without calculated values

# The sheet's root element, whose prefix (`<x:worksheet ...>`, rare) its cells and formulas share.
SHEET_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
TAG_ENDS = frozenset(b" \t\r\n/>")  # what follows a tag's name
SHEET_HEAD_BYTES = 4096  # where the root element is (after the XML declaration)
CHUNK_BYTES = 1 << 20
MAX_CELL_BYTES = 1 << 20
FORMULA_CELLS_SHOWN = 3


class _SheetTags:
    """The byte patterns of one sheet's cells, formulas and values, with the sheet's prefix."""

    def __init__(self, prefix: bytes):
        self.cell, self.cell_end, self.formula = b"<" + prefix + b"c", b"</" + prefix + b"c>", b"<" + prefix + b"f"
        p = re.escape(prefix)
        # a value: a <v> open tag not closed at once (`<v></v>` and `<v/>` are no value)
        self.value = re.compile(rb"<" + p + rb"v(?:\s[^>]*[^/>])?>(?!</" + p + rb"v>)")
        self.reference = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]+)(\d+)["']""")
        self.text_result = re.compile(rb"""\st\s*=\s*["']str["']""")

    def tag_at(self, buf: bytes, pos: int, tag: bytes) -> bool:
        end = pos + len(tag)
        return end < len(buf) and buf[end] in TAG_ENDS

    def cell_start(self, buf: bytes, before: int) -> int:
        """Where the last cell starting before `before` starts (`<c ...`, not `<col` or `<color`), or -1."""
        pos = before
        while (pos := buf.rfind(self.cell, 0, pos)) != -1 and not self.tag_at(buf, pos, self.cell):
            pass
        return pos

    def formula_cells(self, buf: bytes, stop: int):
        """(reference or None, has a value) of each cell holding a formula that starts before `stop`."""
        pos = buf.find(self.formula, 0, stop)
        while pos != -1:
            if self.tag_at(buf, pos, self.formula):  # not `<formula1>` of a data validation
                start, end = self.cell_start(buf, pos), buf.find(self.cell_end, pos)
                head_end = buf.find(b">", start) if start != -1 else -1
                inside = head_end != -1 and end != -1 and buf[head_end - 1] != ord("/") and head_end < pos
                if inside and buf.find(self.cell_end, start, pos) == -1:
                    head, body = buf[start:head_end], buf[head_end + 1:end]
                    ref = self.reference.search(head)
                    has_value = self.value.search(body) is not None or self.text_result.search(head) is not None
                    yield (ref.group(1).decode().upper() + ref.group(2).decode() if ref else None), has_value
                    pos = end
            pos = buf.find(self.formula, pos + 1, stop)


def formulas_without_values(archive: zipfile.ZipFile, part: str,
                            chunk_bytes: int = CHUNK_BYTES) -> tuple[list[str], int]:
    """The cells of a sheet holding a formula but no calculated value: the first few references and how many.

    One byte search through the sheet's XML, a few percent of what reading it costs (text cannot hold a raw
    "<", so only tags match). A value is any non-empty `<v>`, or an empty one in a text result (Excel saves
    `=IF(...;"")` so); openpyxl saves formulas with an empty `<v>` and no type. A cell without a reference
    (rare) is counted, not listed.
    """
    with archive.open(part) as stream:
        root = SHEET_ROOT.search(stream.read(SHEET_HEAD_BYTES))
    tags = _SheetTags((root.group(1) or b"") if root else b"")
    first: list[str] = []
    count = 0
    with archive.open(part) as stream:
        chunk = stream.read(chunk_bytes)
        carry = b""
        while chunk:
            buf = carry + chunk
            chunk = stream.read(chunk_bytes)
            # the last cell may go on in the next chunk: keep it (or a few bytes, a split tag) for then; a cell
            # longer than MAX_CELL_BYTES is no cell Excel writes (32,767 characters at most) and is not kept
            stop = len(buf) if not chunk else tags.cell_start(buf, len(buf))
            if stop == -1:
                stop = max(len(buf) - len(tags.cell), 0)
            elif len(buf) - stop > MAX_CELL_BYTES:
                stop = len(buf)
            for ref, has_value in tags.formula_cells(buf, stop):
                if not has_value:
                    count += 1
                    if ref is not None and len(first) < FORMULA_CELLS_SHOWN:
                        first.append(ref)
            carry = buf[stop:]
    return first, count


_PACKAGE_RELS = "_rels/.rels"
_OFFICE_DOCUMENT = "/officeDocument"  # the relationship type (its end) naming the workbook part
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _relationships(archive: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, target part) of a part's relationships, targets resolved against the part's folder."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", f"{name}.rels")
    if rels not in archive.namelist():
        return []
    out = []
    for rel in ElementTree.fromstring(archive.read(rels)):
        target = rel.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out.append((rel.get("Id", ""), rel.get("Type", ""), resolved))
    return out


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's title and the zip member holding its XML, read from the package's own relationships
    (the Open Packaging Conventions: `_rels/.rels` → the workbook → its sheets), as any reader finds them."""
    workbook = next((t for _, kind, t in _relationships(archive, "") if kind.endswith(_OFFICE_DOCUMENT)), None)
    if workbook is None or workbook not in archive.namelist():
        return {}
    targets = {rid: target for rid, _, target in _relationships(archive, workbook)}
    parts = {}
    for element in ElementTree.fromstring(archive.read(workbook)).iter():
        if element.tag.rsplit("}", 1)[-1] == "sheet" and element.get(f"{_REL_NS}id") in targets:
            parts[element.get("name", "")] = targets[element.get(f"{_REL_NS}id")]
    return parts


def refuse_formulas_without_values(path: Path, ws, names: list[str]) -> None:
    """Stop when cells of the sheet hold formulas without a result: a workbook saved by a script and never
    calculated has none stored, and openpyxl would read its answers as blanks."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    with zipfile.ZipFile(path) as archive:
        part = sheet_parts(archive).get(ws.title)
        if part is None:
            return  # a sheet the package does not list is one openpyxl cannot have read either
        first, count = formulas_without_values(archive, part)
    if not count:
        return

    named: set[str] = set()

    def where(ref: str) -> str:
        """'cell D14 (row 14, column 'data_use_change')'; the column is named once."""
        letters, row = coordinate_from_string(ref)
        if row == 1:
            return f"cell {ref} (the header)"
        index = column_index_from_string(letters)
        name = names[index - 1] if index <= len(names) and not names[index - 1].startswith("__blank_") else None
        if name is None or letters in named:
            return f"cell {ref} (row {row})"
        named.add(letters)
        return f"cell {ref} (row {row}, column {name!r})"

    cells = ", ".join(map(where, first))
    listed = f": {cells}{f' and {count - len(first)} more' if count > len(first) else ''}" if first else ""
    raise UnreadableExportError(
        f"sheet {ws.title!r} has {count} cell{'s' if count > 1 else ''} holding a formula without a calculated "
        f"value, which would be read as blank answers{listed}; open the workbook in Excel so it calculates, "
        "save it, and try again, or paste the values in place of the formulas",
        file=path,
    )


# --------------------------------------------------------------------------- a sheet as a frame

MAX_ROWS_ABOVE_HEADER = 10  # a title and a few notes; a wider row further down is a stray cell
MAX_TITLE_CELLS = 2  # a title, perhaps a date beside it


def _filled(values) -> list[str]:
    return [text for text in map(cell_text, values) if text is not None]


def _header_not_on_row_1(ws, path: Path, title: list[str], number: int) -> UnreadableExportError:
    above = f"row 1 holds only {' and '.join(map(shown, title))}" if title else "row 1 is blank"
    return UnreadableExportError(
        f"the header must be on row 1 of sheet {ws.title!r}: {above} and row {number} looks like the header; "
        "delete the rows above it and try again",
        file=path,
    )


def _outside_header(ws, path: Path, header: list, row: tuple, number: int) -> UnreadableExportError:
    """A row with cells past the header's columns: the header is further down (row 1 is a title), or the
    row holds a stray cell."""
    title = _filled(header)
    if number <= MAX_ROWS_ABOVE_HEADER and len(title) <= MAX_TITLE_CELLS and len(_filled(row)) > len(title):
        return _header_not_on_row_1(ws, path, title, number)
    return UnreadableExportError("a cell lies outside the header's columns", file=path, row=number)


def _no_header(ws, path: Path, rows) -> UnreadableExportError:
    """Row 1 is blank: the header is further down, or the sheet is empty."""
    for number, row in enumerate(rows, start=2):
        if number > MAX_ROWS_ABOVE_HEADER:
            break
        if _filled(row):
            return _header_not_on_row_1(ws, path, [], number)
    return UnreadableExportError(f"sheet {ws.title!r} has no header in row 1", file=path)


def sheet_frame(ws, path: Path) -> pd.DataFrame:
    """A worksheet as text (blank = NA); fully blank rows are not rows; `source_row` is the sheet row."""
    try:
        ws.reset_dimensions()
    except AttributeError:
        pass
    rows = ws.iter_rows(values_only=True)
    header = None
    for header_row in rows:
        header = list(header_row)
        break
    if header is None or all(v is None for v in header):
        raise _no_header(ws, path, rows)
    while header and header[-1] is None:
        header.pop()
    names = unique_header([cell_text(v) or "" for v in header], path)
    refuse_formulas_without_values(path, ws, names)
    width = len(names)
    data, numbers = [], []
    for number, row in enumerate(rows, start=2):
        if len(row) > width and any(cell_text(v) is not None for v in row[width:]):
            raise _outside_header(ws, path, header, row, number)
        values = [cell_text(v) for v in row[:width]]
        if not any(v is not None for v in values):
            continue
        values.extend([None] * (width - len(values)))
        data.append(values)
        numbers.append(number)
    frame = pd.DataFrame(data, columns=names, dtype="str") if data else pd.DataFrame(
        {n: pd.Series([], dtype="str") for n in names}
    )
    frame["source_row"] = np.asarray(numbers, dtype="int64")
    return frame


def open_workbook(path: Path):
    """openpyxl's read-only workbook at `path`, after `check_archive`."""
    import openpyxl

    check_archive(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises a wide variety on corrupt archives
        raise UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path) from None


# --------------------------------------------------------------------------- the opened file


def _quoted(titles: list[str]) -> str:
    return ", ".join(repr(t) for t in titles)


@dataclass
class WorkbookSource:
    """An opened workbook; each sheet is read into a frame once, however many layouts look at it."""

    path: Path
    workbook: object
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    looked_at: dict[str, str] = field(default_factory=dict)  # sheet title -> how it was chosen ("" by name)

    def sheet(self, name: str):
        """The sheet called `name` (case and surrounding blanks ignored), or None."""
        title = next((t for t in self.workbook.sheetnames if t.strip().casefold() == name.casefold()), None)
        if title is None:
            return None
        self.looked_at.setdefault(title, "")
        return self.workbook[title]

    def first_visible_sheet(self):
        """The worksheet Excel opens on: hidden helper sheets placed first are not the export."""
        worksheets = self.workbook.worksheets
        if not worksheets:
            raise UnreadableExportError("the workbook has no sheets", file=self.path)
        ws = next((ws for ws in worksheets if ws.sheet_state not in HIDDEN_STATES), None)
        if ws is None:
            raise UnreadableExportError(
                f"every sheet of the workbook is hidden ({_quoted([w.title for w in worksheets])}); unhide the "
                "sheet that holds the answers, save, and try again",
                file=self.path,
            )
        self.looked_at.setdefault(ws.title, "the first visible sheet")
        return ws

    @property
    def sheets_looked_at(self) -> str:
        """The sheets the layouts looked at, for a message saying none recognised them, e.g. "sheet 'Ark1'
        (the first visible sheet; hidden: 'Hjælp')"; "" when none was looked at."""
        if not self.looked_at:
            return ""
        titles = list(self.looked_at)
        hidden = [ws.title for ws in self.workbook.worksheets if ws.sheet_state in HIDDEN_STATES]
        unread = [t for t in self.workbook.sheetnames if t not in self.looked_at and t not in hidden]
        notes = [how for how in self.looked_at.values() if how]
        notes += [f"not read: {_quoted(unread)}"] if unread else []
        notes += [f"hidden: {_quoted(hidden)}"] if hidden else []
        what = f"sheet {titles[0]!r}" if len(titles) == 1 else f"sheets {_quoted(titles)}"
        return f"{what} ({'; '.join(notes)})" if notes else what

    def frame(self, ws) -> pd.DataFrame:
        if ws.title not in self.frames:
            self.frames[ws.title] = sheet_frame(ws, self.path)
        return self.frames[ws.title]

    def header(self, ws) -> set[str]:
        return {header_key(c) for c in self.frame(ws).columns if c != "source_row"}


@contextmanager
def open_workbook_source(path: Path):
    """The workbook at `path`, closed afterwards; what goes wrong inside it is an unreadable workbook."""
    wb = open_workbook(path)
    try:
        yield WorkbookSource(path, wb)
    except (UnreadableExportError, LayoutError):
        raise
    except Exception as exc:  # corrupt sheet XML surfaces lazily while iterating
        raise UnreadableExportError(f"not a readable .xlsx workbook ({type(exc).__name__})", file=path) from None
    finally:
        try:
            wb.close()
        except Exception:
            pass


WORKBOOK = FileKind("a workbook", EXCEL_SUFFIXES, b"PK\x03\x04", open_workbook_source)


# --------------------------------------------------------------------------- writing (synthetic samples)


def xlsx_timestamp(survey_year: int | None) -> dt.datetime:
    return dt.datetime(survey_year or 2023, 10, 1, 12, 0, 0)


def _freeze_xlsx(path: Path, when: dt.datetime) -> None:
    """Make an openpyxl workbook byte-for-byte reproducible: fixed document and zip-entry timestamps."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = path.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)", rf"\g<1>{stamp}\g<3>", text)
                data = text.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            zout.writestr(entry, data)
    path.write_bytes(buf.getvalue())


def _cell(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path, when: dt.datetime) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.creator = "benchmark_pipeline synthetic sample"
    wb.properties.created = when
    for name, frame in tables.items():
        ws = wb.create_sheet(title=name)
        ws.append([str(c) for c in frame.columns])
        columns = [frame[c].astype(object).to_numpy() for c in frame.columns]
        for row in zip(*columns):
            ws.append([_cell(v) for v in row])
    wb.save(path)
    _freeze_xlsx(path, when)
